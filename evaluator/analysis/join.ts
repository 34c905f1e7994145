/**
 * Joining a run's latents with extra tabular variables, participant by participant. When both
 * files carry a participant ID column the rows are matched by ID (participants in both, in the
 * latents' order); when neither does, by row position (the counts must agree). One file with IDs
 * and one without is refused: matching by position then would silently pair the wrong people.
 */
import { parseKeyedCsv, parseNumericCsv, readCsvText, type CsvOptions } from '../../common/csv.js';
import { invalidArgument } from '../../common/errors.js';
import { makeTable, type Table } from '../../common/matrix.js';

/** ID column a training run writes in latents.csv when its dataset is keyed by participant. */
export const DEFAULT_ID_COLUMN = 'participant_id';

/** A numeric CSV that may carry a participant ID column. */
export interface JoinSource {
  /** Path, for messages. */
  file: string;
  /** Name of the ID column, when the file has one. */
  idColumn?: string;
  /** Participant ID of each row (present exactly when `idColumn` is). */
  ids?: string[];
  /** The numeric columns (the ID column removed). */
  table: Table;
}

/**
 * Reads a numeric CSV, keyed by the first of `idColumns` its header holds, or unkeyed when it
 * holds none. Cells are parsed as strictly as `readNumericCsv` (an empty cell is an error naming
 * the file, line and column).
 */
export function readJoinSource(
  path: string,
  idColumns: readonly string[],
  opts: CsvOptions = {},
): JoinSource {
  return parseJoinSource(readCsvText(path), idColumns, path, opts);
}

/** `readJoinSource` on CSV text; `file` labels errors. */
export function parseJoinSource(
  text: string,
  idColumns: readonly string[],
  file = '<csv>',
  opts: CsvOptions = {},
): JoinSource {
  const newline = text.indexOf('\n');
  const header = parseNumericCsv(newline < 0 ? text : text.slice(0, newline + 1), file).columns;
  const idColumn = idColumns.find((c) => header.includes(c));
  if (idColumn === undefined) return { file, table: parseNumericCsv(text, file, opts) };
  const { ids, table } = parseKeyedCsv(text, idColumn, file, opts);
  return { file, idColumn, ids, table };
}

export type JoinMode = 'id' | 'position';

export interface JoinResult {
  mode: JoinMode;
  /** ID column used (mode 'id'). */
  idColumn?: string;
  /** Latent columns, then tabular columns, one row per participant used (the latents' order). */
  table: Table;
  latentColumns: readonly string[];
  tabularColumns: readonly string[];
  /** Participant IDs of the rows used (mode 'id'). */
  ids?: string[];
  /** Rows left out because the other file has no such participant (always 0 by position). */
  dropped: { latents: number; tabular: number };
  /** Up to `DROPPED_EXAMPLES` of the IDs left out from each file, in file order. */
  droppedExamples: { latents: string[]; tabular: string[] };
}

export const DROPPED_EXAMPLES = 5;

/**
 * Joins latents and tabular variables; throws INVALID_ARGUMENT (naming the files) for a tabular
 * column named like a latent column, one file keyed and the other not, a duplicated ID, no
 * participant in common, or (by position) different row counts.
 */
export function joinLatentsWithTabular(latents: JoinSource, tabular: JoinSource): JoinResult {
  const latentColumns = latents.table.columns;
  const tabularColumns = tabular.table.columns;
  if (latentColumns.length === 0)
    throw invalidArgument('has no latent columns', { file: latents.file, line: 1 });
  if (tabularColumns.length === 0) {
    throw invalidArgument('has no variable columns besides the participant ID', {
      file: tabular.file,
      line: 1,
    });
  }
  const latentSet = new Set(latentColumns);
  const clash = tabularColumns.find((c) => latentSet.has(c));
  if (clash !== undefined) {
    throw invalidArgument(
      `column ${JSON.stringify(clash)} has the name of a latent in ${latents.file}; rename it`,
      { file: tabular.file, line: 1, column: clash },
    );
  }

  const keyedL = latents.ids !== undefined;
  const keyedT = tabular.ids !== undefined;
  if (keyedL !== keyedT) {
    const [withIds, withoutIds] = keyedL ? [latents, tabular] : [tabular, latents];
    throw invalidArgument(
      `${withIds.file} has a participant ID column ${JSON.stringify(withIds.idColumn)} but ${withoutIds.file} ` +
        'has none: give both files the ID column to join by participant, or neither to join by row position',
      { file: withoutIds.file, line: 1 },
    );
  }

  if (!keyedL) {
    const nL = latents.table.nRows;
    const nT = tabular.table.nRows;
    if (nL !== nT) {
      throw invalidArgument(
        `${latents.file} has ${nL} rows but ${tabular.file} has ${nT}: without participant ID columns ` +
          'rows are matched by position, so the counts must agree (add a participant ID column to both to join by ID)',
        { file: tabular.file },
      );
    }
    const rows = Array.from({ length: nL }, (_, i) => i);
    return {
      mode: 'position',
      table: concatRows(latents.table, rows, tabular.table, rows),
      latentColumns,
      tabularColumns,
      dropped: { latents: 0, tabular: 0 },
      droppedExamples: { latents: [], tabular: [] },
    };
  }

  const idsL = latents.ids as string[];
  const idsT = tabular.ids as string[];
  indexIds(latents);
  const rowOfT = indexIds(tabular);
  const rowsL: number[] = [];
  const rowsT: number[] = [];
  const used = new Uint8Array(idsT.length);
  const droppedL: string[] = [];
  idsL.forEach((id, i) => {
    const j = rowOfT.get(id);
    if (j === undefined) {
      droppedL.push(id);
      return;
    }
    rowsL.push(i);
    rowsT.push(j);
    used[j] = 1;
  });
  const droppedT = idsT.filter((_, j) => used[j] === 0);
  if (rowsL.length === 0) {
    throw invalidArgument(
      `no participant is in both ${latents.file} (${idsL.length} IDs${examples(idsL)}) and ` +
        `${tabular.file} (${idsT.length} IDs${examples(idsT)})`,
      { file: tabular.file, column: tabular.idColumn as string },
    );
  }
  return {
    mode: 'id',
    idColumn: tabular.idColumn as string,
    table: concatRows(latents.table, rowsL, tabular.table, rowsT),
    latentColumns,
    tabularColumns,
    ids: rowsL.map((i) => idsL[i] as string),
    dropped: { latents: droppedL.length, tabular: droppedT.length },
    droppedExamples: {
      latents: droppedL.slice(0, DROPPED_EXAMPLES),
      tabular: droppedT.slice(0, DROPPED_EXAMPLES),
    },
  };
}

/** Row of each ID; a repeated ID is an error naming both lines (the header is line 1). */
function indexIds(source: JoinSource): Map<string, number> {
  const rowOf = new Map<string, number>();
  (source.ids as string[]).forEach((id, r) => {
    const first = rowOf.get(id);
    if (first !== undefined) {
      throw invalidArgument(
        `participant ID ${JSON.stringify(id)} appears twice (lines ${first + 2} and ${r + 2})`,
        { file: source.file, line: r + 2, column: source.idColumn as string },
      );
    }
    rowOf.set(id, r);
  });
  return rowOf;
}

/** Rows `rowsA` of `a` side by side with rows `rowsB` of `b` (same count). */
function concatRows(a: Table, rowsA: readonly number[], b: Table, rowsB: readonly number[]): Table {
  const pa = a.columns.length;
  const pb = b.columns.length;
  const p = pa + pb;
  const n = rowsA.length;
  const data = new Float64Array(n * p);
  for (let r = 0; r < n; r++) {
    const ia = (rowsA[r] as number) * pa;
    const ib = (rowsB[r] as number) * pb;
    data.set(a.data.subarray(ia, ia + pa), r * p);
    data.set(b.data.subarray(ib, ib + pb), r * p + pa);
  }
  return makeTable([...a.columns, ...b.columns], n, data);
}

/** ", e.g. "a", "b", "c", ..." or nothing for no IDs. */
function examples(ids: readonly string[]): string {
  if (ids.length === 0) return '';
  const shown = ids.slice(0, 3).map((s) => JSON.stringify(s));
  return `, e.g. ${shown.join(', ')}${ids.length > 3 ? ', ...' : ''}`;
}
