/**
 * Raw tables of a positional, all-tabular dataset directory (the synthetic presets' layout), for
 * tools that work on observations directly (`crl demo`, `crl data check`); training goes through
 * cohort/load.ts, which handles every modality kind and participant IDs. Also the truth of any
 * dataset, in its participants' order.
 */
import { join } from 'node:path';
import { CrlError, invalidArgument } from '../../common/errors.js';
import { readKeyedCsv, readNumericCsv, type KeyedTable } from '../../common/csv.js';
import { readIdFile } from './cohort/join.js';
import { readGraph, type Graph } from '../../common/graph.js';
import { makeTable, type Table } from '../../common/matrix.js';
import { MANIFEST_FILE, readManifest, type DatasetManifest, type ModalityManifest } from './manifest.js';
import { identifiabilityOf, type Identifiability } from './synthetic/identifiability.js';

export interface LoadedModality {
  manifest: ModalityManifest;
  observations: Table;
}

export interface LoadedTruth {
  latents: Table;
  graph: Graph;
  /**
   * Whether the truth meets the paper's structural conditions: the generator's record (with edge
   * strengths) for synthetic data, else the check of the truth graph alone.
   */
  identifiability: Identifiability;
}

export interface LoadedDataset {
  dir: string;
  manifest: DatasetManifest;
  modalities: LoadedModality[];
}

export function loadDataset(dir: string, opts: { modalities?: readonly string[] } = {}): LoadedDataset {
  const manifest = readManifest(dir);
  const manifestFile = join(dir, MANIFEST_FILE);
  const wanted = opts.modalities ?? manifest.modalities.map((m) => m.name);
  const known = new Map(manifest.modalities.map((m) => [m.name, m]));
  const modalities = wanted.map((name) => {
    const mod = known.get(name);
    if (mod === undefined) {
      throw new CrlError(
        'NOT_FOUND',
        `unknown modality "${name}"; the dataset has ${[...known.keys()].join(', ')}`,
        { file: manifestFile, field: 'modalities' },
      );
    }
    const file = join(dir, mod.path);
    if (
      mod.kind !== 'tabular' ||
      mod.id_column !== undefined ||
      mod.format !== 'csv' ||
      manifest.n === undefined
    ) {
      throw invalidArgument(`modality ${name} is not a positional CSV table; load the cohort instead`, {
        file,
      });
    }
    const observations = readNumericCsv(file);
    if (observations.nRows !== manifest.n) {
      throw invalidArgument(
        `has ${observations.nRows} rows but the manifest says n = ${manifest.n} (every modality must have one row per participant)`,
        { file },
      );
    }
    if (observations.columns.length !== mod.dims) {
      throw invalidArgument(
        `has ${observations.columns.length} columns but the manifest says dims = ${mod.dims}`,
        {
          file,
        },
      );
    }
    return { manifest: mod, observations };
  });
  return { dir, manifest, modalities };
}

/**
 * Ground-truth latents and graph, or undefined for a dataset without truth (a real cohort). A keyed
 * cohort's truth rows are joined by participant ID into the order of its participants file.
 */
export function loadTruth(dir: string, manifest: DatasetManifest): LoadedTruth | undefined {
  if (manifest.truth === undefined) return undefined;
  const latentsFile = join(dir, manifest.truth.latents);
  const idColumn = manifest.truth.id_column;
  const latents =
    idColumn === undefined
      ? readNumericCsv(latentsFile)
      : inParticipantOrder(readKeyedCsv(latentsFile, idColumn), dir, manifest, latentsFile);
  if (manifest.n !== undefined && latents.nRows !== manifest.n) {
    throw invalidArgument(`has ${latents.nRows} rows but the manifest says n = ${manifest.n}`, {
      file: latentsFile,
    });
  }
  const graphFile = join(dir, manifest.truth.graph);
  const graph = readGraph(graphFile);
  const missing = graph.nodes.filter((name) => !latents.columns.includes(name));
  if (missing.length > 0) {
    throw invalidArgument(`graph nodes ${missing.join(', ')} have no column in ${manifest.truth.latents}`, {
      file: graphFile,
    });
  }
  // The generator's record is free-form provenance: use it only when it has the expected shape.
  const recorded = manifest.generator?.['identifiability'] as Partial<Identifiability> | undefined;
  const usable =
    recorded !== undefined &&
    typeof recorded.conditions_met === 'boolean' &&
    Array.isArray(recorded.edges) &&
    Array.isArray(recorded.exchangeable) &&
    Array.isArray(recorded.unlinked);
  return {
    latents,
    graph,
    identifiability: usable ? (recorded as Identifiability) : identifiabilityOf(graph),
  };
}

/** Rows of a keyed truth table in the order of the manifest's participants file. */
function inParticipantOrder(keyed: KeyedTable, dir: string, manifest: DatasetManifest, file: string): Table {
  const participantsFile = join(dir, manifest.participants as string);
  const order = readIdFile(participantsFile);
  const rowOf = new Map<string, number>();
  keyed.ids.forEach((id, r) => {
    if (rowOf.has(id)) throw invalidArgument(`participant ${id} appears twice`, { file, line: r + 2 });
    rowOf.set(id, r);
  });
  const p = keyed.table.columns.length;
  const data = new Float64Array(order.length * p);
  order.forEach((id, i) => {
    const r = rowOf.get(id);
    if (r === undefined) throw invalidArgument(`has no truth for participant ${id}`, { file });
    data.set(keyed.table.data.subarray(r * p, r * p + p), i * p);
  });
  return makeTable(keyed.table.columns, order.length, data);
}
