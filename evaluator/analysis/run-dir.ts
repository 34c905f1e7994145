/**
 * What an analysis reads from a training run directory: `latents.csv` (one column `z<m>_<i>` per
 * latent, modality m 1-based, one row per participant in dataset order, optionally a participant
 * ID column) and, when present, the modality names in `result.json`. result.json is read
 * defensively: it is optional, and anything unexpected in it costs the names (noted), not the run.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument } from '../../common/errors.js';
import { latentModality } from '../../common/graph.js';
import { selectRows } from '../../common/matrix.js';
import { readJoinSource, type JoinSource } from './join.js';

export interface RunLatents {
  source: JoinSource;
  /** Modality (1-based) of each latent column, in column order. */
  modalityOf: number[];
  /** Name of modality m at index m - 1, where result.json gives one. */
  modalityNames: (string | undefined)[];
  /** What could not be used from result.json, for the report. */
  notes: string[];
}

/** Reads `run/latents.csv` (keyed by the first of `idColumns` it holds) and modality names. */
export function readRunLatents(run: string, idColumns: readonly string[]): RunLatents {
  if (!existsSync(run) || !statSync(run).isDirectory()) {
    throw invalidArgument('is not a directory (expected a training run directory)', { file: run });
  }
  const latentsPath = join(run, 'latents.csv');
  if (!existsSync(latentsPath)) {
    throw invalidArgument('has no latents.csv (expected a run directory written by crl train)', {
      file: run,
    });
  }
  // Blank cells are latents of a modality the participant lacks: PC runs on the complete rows.
  const all = readJoinSource(latentsPath, idColumns, { allowBlank: true });
  const source = completeParticipants(all);
  const dropped = all.table.nRows - source.table.nRows;
  const modalityOf = source.table.columns.map((c) => {
    const m = latentModality(c);
    if (m === undefined || m < 1) {
      throw invalidArgument(
        `column ${JSON.stringify(c)} is not a latent name z<m>_<i> (modality m and index i from 1)`,
        { file: latentsPath, line: 1, column: c },
      );
    }
    return m;
  });
  const resultPath = join(run, 'result.json');
  const { names, notes } = existsSync(resultPath)
    ? readModalityNames(resultPath)
    : { names: [], notes: [] as string[] };
  // Modalities beyond the list (entries without a name were noted when read).
  const missing = [...new Set(modalityOf)].filter((m) => m > names.length).sort((a, b) => a - b);
  if (names.length > 0 && missing.length > 0) {
    notes.push(`${resultPath} names no modality ${missing.join(', ')}; labelled "modality m" instead`);
  }
  if (dropped > 0) {
    notes.push(
      `${dropped} of ${all.table.nRows} participants in ${latentsPath} lack a modality (blank latents) and are left out`,
    );
  }
  return { source, modalityOf, modalityNames: names, notes };
}

/** The rows without a blank (NaN) cell. */
function completeParticipants(src: JoinSource): JoinSource {
  const p = src.table.columns.length;
  const keep = new Uint8Array(src.table.nRows);
  for (let r = 0; r < src.table.nRows; r++) {
    keep[r] = src.table.data.subarray(r * p, r * p + p).every((v) => !Number.isNaN(v)) ? 1 : 0;
  }
  if (keep.every((k) => k === 1)) return src;
  return {
    ...src,
    table: selectRows(src.table, keep),
    ...(src.ids === undefined ? {} : { ids: src.ids.filter((_, r) => keep[r] === 1) }),
  };
}

/**
 * Modality names from a result.json: a top-level `modalities` array, else `data.modalities` (what
 * `crl train` writes), each entry a name or an object with a `name`. Entries that are neither are
 * left unnamed and noted; an unreadable file gives no names and a note.
 */
export function readModalityNames(path: string): { names: (string | undefined)[]; notes: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { names: [], notes: [`${path} could not be read (${(err as Error).message}); no modality names`] };
  }
  return modalityNamesOf(raw, path);
}

/** `readModalityNames` on parsed JSON; `file` labels notes. */
export function modalityNamesOf(
  raw: unknown,
  file = 'result.json',
): { names: (string | undefined)[]; notes: string[] } {
  const obj = isRecord(raw) ? raw : {};
  const data = isRecord(obj['data']) ? obj['data'] : {};
  const list = Array.isArray(obj['modalities'])
    ? { at: 'modalities', items: obj['modalities'] as unknown[] }
    : Array.isArray(data['modalities'])
      ? { at: 'data.modalities', items: data['modalities'] as unknown[] }
      : undefined;
  if (list === undefined) return { names: [], notes: [] };
  const notes: string[] = [];
  const names = list.items.map((item, k) => {
    const name = typeof item === 'string' ? item : isRecord(item) ? item['name'] : undefined;
    if (typeof name === 'string' && name.trim() !== '') return name.trim();
    notes.push(`${file}: ${list.at}[${k}] has no name; labelled "modality ${k + 1}" instead`);
    return undefined;
  });
  return { names, notes };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
