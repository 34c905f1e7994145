/**
 * Loads a dataset directory through its manifest. Callers name the modalities they own, and only
 * those files are read: a trainer never touches another modality's data.
 */
import { join } from 'node:path';
import { CrlError, invalidArgument } from '../../common/errors.js';
import { readNumericCsv } from '../../common/csv.js';
import { readGraph, type Graph } from '../../common/graph.js';
import type { Table } from '../../common/matrix.js';
import { MANIFEST_FILE, readManifest, type DatasetManifest, type ModalityManifest } from './manifest.js';

export interface LoadedModality {
  manifest: ModalityManifest;
  observations: Table;
}

export interface LoadedTruth {
  latents: Table;
  graph: Graph;
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

/** Ground-truth latents and graph, or undefined for a dataset without truth (a real cohort). */
export function loadTruth(dir: string, manifest: DatasetManifest): LoadedTruth | undefined {
  if (manifest.truth === undefined) return undefined;
  const latentsFile = join(dir, manifest.truth.latents);
  const latents = readNumericCsv(latentsFile);
  if (latents.nRows !== manifest.n) {
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
  return { latents, graph };
}
