/**
 * Checks and groupings shared by the latent metrics (MCC, R²): both compare a truth table with an
 * estimate table row by row, optionally block by block (one block per modality).
 */
import { invalidArgument } from '../../common/errors.js';
import { latentModality } from '../../common/graph.js';
import { selectColumns, type Table } from '../../common/matrix.js';

/** Names used in error messages for the two inputs, typically their file paths. */
export interface InputLabels {
  truth?: string;
  estimate?: string;
}

/**
 * Column groups compared block against block: modality name -> the truth columns and the
 * estimate columns of that modality.
 */
export type ModalityGroups = Readonly<
  Record<string, { readonly truth: readonly string[]; readonly estimate: readonly string[] }>
>;

/** Throws unless both tables have the same number of rows (rows are paired by position). */
export function requireSameRows(truth: Table, estimate: Table, labels: InputLabels = {}): void {
  if (truth.nRows === estimate.nRows) return;
  const t = labels.truth ?? 'truth';
  const e = labels.estimate ?? 'estimate';
  throw invalidArgument(
    `row counts differ: ${t} has ${truth.nRows} rows, ${e} has ${estimate.nRows} (rows are paired by position)`,
  );
}

/**
 * The named columns of `table`, in the given order. Unknown or repeated names are rejected, with
 * the list of available columns, because a typo here would silently score the wrong latents.
 * `where` labels the error (a file, or a CLI flag in `field`).
 */
export function selectByName(
  table: Table,
  names: readonly string[],
  where: { file?: string; field?: string } = {},
): Table {
  const index = new Map(table.columns.map((c, j) => [c, j]));
  const unknown = names.filter((n) => !index.has(n));
  if (unknown.length > 0) {
    throw invalidArgument(
      `unknown column(s) ${unknown.map((u) => JSON.stringify(u)).join(', ')}; available: ${table.columns.join(', ')}`,
      where,
    );
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw invalidArgument(`column ${JSON.stringify(dup)} is listed twice`, where);
  if (names.length === 0) throw invalidArgument('no columns selected', where);
  return selectColumns(
    table,
    names.map((n) => index.get(n) as number),
  );
}

/**
 * Modality groups from the `z<m>_<i>` naming convention, or undefined when it does not apply:
 * every column of both tables must be a latent name and both must cover the same modalities
 * (a missing block would make that modality's score meaningless rather than low).
 */
export function latentGroups(truth: Table, estimate: Table): ModalityGroups | undefined {
  const t = blocksOf(truth.columns);
  const e = blocksOf(estimate.columns);
  if (t === undefined || e === undefined || t.size !== e.size) return undefined;
  const groups: Record<string, { truth: string[]; estimate: string[] }> = {};
  for (const [m, cols] of [...t].sort((x, y) => x[0] - y[0])) {
    const est = e.get(m);
    if (est === undefined) return undefined;
    groups[String(m)] = { truth: cols, estimate: est };
  }
  return groups;
}

function blocksOf(columns: readonly string[]): Map<number, string[]> | undefined {
  const blocks = new Map<number, string[]>();
  for (const c of columns) {
    const m = latentModality(c);
    if (m === undefined) return undefined;
    const b = blocks.get(m);
    if (b === undefined) blocks.set(m, [c]);
    else b.push(c);
  }
  return blocks.size > 0 ? blocks : undefined;
}

/** Splits both tables into the blocks of `groups`, validating every name. */
/**
 * The per-modality grouping a caller asked for: 'auto' (the default) infers it from `z<m>_<i>`
 * column names, 'none' turns it off, an explicit grouping is used as given.
 */
export function resolveGroups(
  requested: 'auto' | 'none' | ModalityGroups | undefined,
  truth: Table,
  estimate: Table,
): ModalityGroups | undefined {
  if (requested === undefined || requested === 'auto') return latentGroups(truth, estimate);
  return requested === 'none' ? undefined : requested;
}

export function splitByGroups(
  truth: Table,
  estimate: Table,
  groups: ModalityGroups,
  labels: InputLabels = {},
): Array<{ modality: string; truth: Table; estimate: Table }> {
  return Object.entries(groups).map(([modality, g]) => ({
    modality,
    truth: selectByName(truth, g.truth, { file: labels.truth, field: `groups.${modality}.truth` }),
    estimate: selectByName(estimate, g.estimate, {
      file: labels.estimate,
      field: `groups.${modality}.estimate`,
    }),
  }));
}

/** Throws at the first non-finite value, naming its 1-based row and its column. */
export function requireFinite(table: Table, file?: string): void {
  const p = table.columns.length;
  const d = table.data;
  for (let k = 0; k < d.length; k++) {
    if (!Number.isFinite(d[k])) {
      throw invalidArgument(`row ${Math.floor(k / p) + 1} is ${d[k]}; values must be finite`, {
        file,
        column: table.columns[k % p] as string,
      });
    }
  }
}
