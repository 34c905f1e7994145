/**
 * Loads a dataset directory through its manifest into training blocks: the participant join,
 * one block per modality asked for (a trainer asks only for its own), the presence of every
 * modality (the losses weigh rows by it), and the standardisation statistics to store with the run.
 *
 * Tabular modalities are read whole (they are small); time series and images stream from their
 * files by batch, so memory does not grow with the cohort. Reading another modality's participant
 * IDs (to know who is present) never reads its data.
 */
import { join } from 'node:path';
import { CrlError, invalidArgument } from '../../../common/errors.js';
import { readKeyedCsv, readNumericCsv } from '../../../common/csv.js';
import type { Table } from '../../../common/matrix.js';
import type { ModalitySpec } from '../../model/config.js';
import { readParquetTable } from '../formats/parquet.js';
import {
  MANIFEST_FILE,
  isKeyed,
  manifestRowShape,
  readManifest,
  type DatasetManifest,
  type ModalityManifest,
} from '../manifest.js';
import { modalitySpecsOf } from '../modality-specs.js';
import type { RowBlock } from '../rows/block.js';
import type { Scaling } from '../rows/standardize.js';
import { scanScaling, StreamBlock, type RowReader } from '../rows/stream-block.js';
import { tabularBlock } from '../rows/tabular.js';
import { joinParticipants, readIdFile, type ParticipantJoin } from './join.js';
import {
  imageFilesReader,
  mustExist,
  npyArrayReader,
  participantFiles,
  seriesFilesReader,
} from './readers.js';

export interface Cohort {
  dir: string;
  manifest: DatasetManifest;
  /** Every modality, manifest order. */
  specs: ModalitySpec[];
  /** Participants (rows of every block). */
  n: number;
  /** Participant IDs in row order, for keyed cohorts. */
  participants: string[] | undefined;
  /** Blocks of the modalities asked for, in that order. */
  blocks: RowBlock[];
  /** Presence of every modality (manifest order); undefined where everybody has it. */
  presence: (Uint8Array | undefined)[];
  /** Standardisation of the blocks, in block order. */
  scaling: Scaling[];
}

interface Tabular {
  ids: string[] | undefined;
  table: Table;
  file: string;
  lineOf: (r: number) => { line: number } | { row: number };
}

export async function loadCohort(dir: string, opts: { read?: readonly string[] } = {}): Promise<Cohort> {
  const manifest = readManifest(dir);
  const manifestFile = join(dir, MANIFEST_FILE);
  const specs = modalitySpecsOf(manifest, manifestFile);
  const byName = new Map(manifest.modalities.map((m, i) => [m.name, i]));
  const wanted = (opts.read ?? manifest.modalities.map((m) => m.name)).map((name) => {
    const i = byName.get(name);
    if (i === undefined) {
      throw new CrlError(
        'NOT_FOUND',
        `unknown modality "${name}"; the dataset has ${[...byName.keys()].join(', ')}`,
        { file: manifestFile, field: 'modalities' },
      );
    }
    return i;
  });
  const keyed = manifest.modalities.some(isKeyed);
  const tables = new Map<number, Tabular>();
  let join_: ParticipantJoin | undefined;
  if (keyed) {
    const keys = await Promise.all(
      manifest.modalities.map(async (mod, i) => {
        if (mod.kind === 'tabular') {
          // Another trainer's table is read for its IDs only (Parquet reads just that column).
          const t = await readTabular(dir, mod, !wanted.includes(i));
          if (wanted.includes(i)) tables.set(i, t);
          return { name: mod.name, file: t.file, ids: t.ids as string[] };
        }
        return { name: mod.name, ...idsOf(dir, mod) };
      }),
    );
    const participants =
      manifest.participants === undefined
        ? undefined
        : { file: join(dir, manifest.participants), ids: readIdFile(join(dir, manifest.participants)) };
    join_ = joinParticipants(keys, participants);
    if (manifest.n !== undefined && manifest.n !== join_.ids.length) {
      throw invalidArgument(
        `the manifest says n = ${manifest.n} but the modalities hold ${join_.ids.length} participants`,
        {
          file: manifestFile,
          field: 'n',
        },
      );
    }
  }
  const n = join_?.ids.length ?? (manifest.n as number);
  const blocks: RowBlock[] = [];
  const scaling: Scaling[] = [];
  try {
    for (const i of wanted) {
      const mod = manifest.modalities[i] as ModalityManifest;
      const rowOf = join_?.rowOf[i];
      const joined = rowOf === undefined ? undefined : { n, rowOf };
      if (mod.kind === 'tabular') {
        const t = tables.get(i) ?? (await readTabular(dir, mod));
        checkTabular(t, mod, manifest.n, keyed);
        const b = tabularBlock({ name: mod.name, table: t.table, file: t.file, lineOf: t.lineOf }, joined);
        blocks.push(b.block);
        scaling.push(b.scaling);
      } else {
        const reader = readerOf(dir, mod);
        if (!keyed && reader.rows !== manifest.n) {
          reader.close();
          throw invalidArgument(
            `has ${reader.rows} rows but the manifest says n = ${manifest.n} (every modality must have one row per participant)`,
            { file: join(dir, mod.path) },
          );
        }
        const shape = manifestRowShape(mod);
        const s = scanScaling(mod.name, reader, 'channel', shape[shape.length - 1] as number);
        blocks.push(new StreamBlock(mod.name, reader, n, rowOf, s));
        scaling.push(s);
      }
    }
  } catch (err) {
    blocks.forEach((b) => b.close());
    throw err;
  }
  const presence = manifest.modalities.map((_, i) => {
    const rowOf = join_?.rowOf[i];
    if (rowOf === undefined || rowOf.every((r) => r >= 0)) return undefined;
    return Uint8Array.from(rowOf, (r) => (r >= 0 ? 1 : 0));
  });
  return { dir, manifest, specs, n, participants: join_?.ids, blocks, presence, scaling };
}

async function readTabular(
  dir: string,
  mod: ModalityManifest & { kind: 'tabular' },
  idsOnly = false,
): Promise<Tabular> {
  const file = join(dir, mod.path);
  mustExist(file, `modality ${mod.name}'s file`);
  if (mod.format === 'parquet') {
    const { ids, table } = await readParquetTable(file, {
      ...(mod.id_column === undefined ? {} : { idColumn: mod.id_column }),
      ...(idsOnly ? { columns: [] } : {}),
    });
    return { ids, table, file, lineOf: (r) => ({ row: r + 1 }) };
  }
  if (mod.id_column !== undefined) {
    const { ids, table } = readKeyedCsv(file, mod.id_column);
    return { ids, table, file, lineOf: (r) => ({ line: r + 2 }) };
  }
  return { ids: undefined, table: readNumericCsv(file), file, lineOf: (r) => ({ line: r + 2 }) };
}

function checkTabular(
  t: Tabular,
  mod: ModalityManifest & { kind: 'tabular' },
  n: number | undefined,
  keyed: boolean,
): void {
  if (!keyed && t.table.nRows !== n) {
    throw invalidArgument(
      `has ${t.table.nRows} rows but the manifest says n = ${n} (every modality must have one row per participant)`,
      { file: t.file },
    );
  }
  if (t.table.columns.length !== mod.dims) {
    throw invalidArgument(`has ${t.table.columns.length} columns but the manifest says dims = ${mod.dims}`, {
      file: t.file,
    });
  }
}

/** Participant IDs of an array-shaped modality, without reading its data. */
function idsOf(dir: string, mod: ModalityManifest): { file: string; ids: string[] } {
  const path = join(dir, mod.path);
  if (perParticipant(mod)) return { file: path, ids: participantFiles(path, mod.format).ids };
  if (mod.kind === 'tabular' || mod.ids === undefined) throw new Error(`modality ${mod.name} has no IDs`);
  const file = join(dir, mod.ids);
  return { file, ids: readIdFile(file) };
}

function perParticipant(mod: ModalityManifest): boolean {
  return (
    (mod.kind === 'image' && mod.format !== 'npy') ||
    (mod.kind === 'timeseries' && mod.layout === 'per-participant')
  );
}

function readerOf(dir: string, mod: ModalityManifest): RowReader {
  const path = join(dir, mod.path);
  mustExist(path, `modality ${mod.name}'s ${perParticipant(mod) ? 'directory' : 'file'}`);
  if (mod.kind === 'image' && mod.format !== 'npy') {
    const { ids, files } = participantFiles(path, mod.format);
    return imageFilesReader(files, ids, mod);
  }
  if (mod.kind === 'timeseries' && mod.layout === 'per-participant') {
    const { ids, files } = participantFiles(path, 'npy');
    return seriesFilesReader(files, ids, [mod.length, mod.channels]);
  }
  const reader = npyArrayReader(path, manifestRowShape(mod));
  if (mod.kind !== 'tabular' && mod.ids !== undefined) {
    const idsFile = join(dir, mod.ids);
    const count = readIdFile(idsFile).length;
    if (count !== reader.rows) {
      reader.close();
      throw invalidArgument(`lists ${count} participant IDs for the ${reader.rows} rows of ${mod.path}`, {
        file: idsFile,
      });
    }
  }
  return reader;
}
