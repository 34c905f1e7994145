/**
 * Writes a generated dataset as a dataset directory:
 *
 *   dataset.json          manifest (modalities, dims, kinds, truth files, generator spec)
 *   m<m>.csv              observations of modality m, columns x<m>_1..x<m>_<d>
 *   truth/latents.csv     true z, columns named as the graph's nodes (z<m>_<i>)
 *   truth/exogenous.csv   true eta, columns eta<m>_<j>
 *   truth/noise.csv       the causal noise eps<m>_<i>
 *   truth/graph.json      the true latent DAG in the shared graph format
 *
 * All files are staged and moved into place together. No timestamps: one seed, one set of bytes.
 */
import { formatCsv } from '../../../common/csv.js';
import { formatGraph, latentModality } from '../../../common/graph.js';
import { writeDirectoryAtomically } from '../../../common/output-dir.js';
import type { DatasetManifest } from '../manifest.js';
import { MANIFEST_FILE } from '../manifest.js';
import type { SyntheticDataset } from './generate.js';
import { possibleInterEdges } from './spec.js';

export function syntheticManifest(ds: SyntheticDataset, name: string, preset?: string): DatasetManifest {
  const { spec } = ds;
  const hasExogenous = ds.exogenous.columns.length > 0;
  const modalityOf = (i: number) => latentModality(ds.graph.nodes[i] as string);
  const interEdges = ds.graph.edges.filter(([a, b]) => modalityOf(a) !== modalityOf(b)).length;
  const possible = possibleInterEdges(spec.latents);
  return {
    format: 'crl-dataset',
    version: 1,
    name,
    n: spec.n,
    modalities: ds.modalities.map((m, i) => ({
      name: m.name,
      kind: 'tabular' as const,
      path: `${m.name}.csv`,
      format: 'csv' as const,
      dims: spec.dims[i] as number,
      latents: spec.latents[i] as number,
      exogenous: spec.exogenous[i] as number,
      truth: { latents: m.latentColumns, exogenous: m.exogenousColumns },
    })),
    truth: {
      latents: 'truth/latents.csv',
      graph: 'truth/graph.json',
      ...(hasExogenous ? { exogenous: 'truth/exogenous.csv' } : {}),
      noise: 'truth/noise.csv',
    },
    generator: {
      kind: 'synthetic',
      ...(preset !== undefined ? { preset } : {}),
      spec,
      inter_edges: interEdges,
      possible_inter_edges: possible,
      sparsity: possible > 0 ? 1 - interEdges / possible : 0,
      intra_edges: ds.graph.edges.length - interEdges,
      mixing_condition_numbers: Object.fromEntries(
        ds.modalities.map((m) => [m.name, m.mixingConditionNumbers]),
      ),
      identifiability: ds.identifiability,
    },
  };
}

export function writeSyntheticDataset(
  ds: SyntheticDataset,
  outDir: string,
  opts: { name: string; preset?: string; overwrite?: boolean },
): DatasetManifest {
  const manifest = syntheticManifest(ds, opts.name, opts.preset);
  writeDirectoryAtomically(outDir, { overwrite: opts.overwrite ?? false, flag: '--out' }, (dir) => {
    for (const m of ds.modalities) dir.write(`${m.name}.csv`, formatCsv(m.observations));
    dir.write('truth/latents.csv', formatCsv(ds.latents));
    if (manifest.truth?.exogenous !== undefined) dir.write('truth/exogenous.csv', formatCsv(ds.exogenous));
    dir.write('truth/noise.csv', formatCsv(ds.noise));
    dir.write('truth/graph.json', formatGraph(ds.graph));
    dir.write(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return manifest;
}
