/**
 * The ground truth a trial's latents are scored against, restricted to the trained modalities.
 * A preset is regenerated from its seed (the very data the trainers generated); a dataset's truth
 * is read from its files, and a dataset without one (a real cohort) has none.
 */
import { invalidArgument } from '../common/errors.js';
import type { Graph } from '../common/graph.js';
import { selectColumns, type Table } from '../common/matrix.js';
import { loadTruth } from '../trainer/data/dataset.js';
import { readManifest } from '../trainer/data/manifest.js';
import { generateSynthetic } from '../trainer/data/synthetic/generate.js';
import { identifiabilityOf } from '../trainer/data/synthetic/identifiability.js';
import { resolveSpec } from '../trainer/data/synthetic/spec.js';
import type { TrialSpec } from '../proto/gen/crl/v1/trial.js';
import type { ResolvedTrialSpec } from './spec.js';

export interface TrialTruth {
  /** n x d, columns in the trial's latent order. */
  latents: Table;
  /** The true graph over those latents only. */
  graph: Graph;
  /**
   * Whether that graph meets the paper's structural conditions: checked on the trained latents'
   * subgraph, since a latent linked only to a modality left out of the trial is unlinked in it.
   */
  conditionsMet: boolean;
}

export function loadTrialTruth(resolved: ResolvedTrialSpec, spec: TrialSpec): TrialTruth | undefined {
  let full: Pick<TrialTruth, 'latents' | 'graph'> | undefined;
  if (resolved.source.kind === 'preset') {
    const ds = generateSynthetic(
      resolveSpec(resolved.source.preset, { seed: spec.seed, n: spec.rows === 0 ? undefined : spec.rows }),
    );
    full = { latents: ds.latents, graph: ds.graph };
  } else {
    const dir = resolved.source.dir;
    full = loadTruth(dir, readManifest(dir));
  }
  if (full === undefined) return undefined;
  const names = resolved.latentNames;
  const cols = names.map((c) => full.latents.columns.indexOf(c));
  const missing = names.filter((_, i) => cols[i] === -1);
  if (missing.length > 0) {
    throw invalidArgument(`the true latents have no column ${missing.join(', ')}`, { field: 'spec' });
  }
  const graph = restrictGraph(full.graph, names);
  return {
    latents: selectColumns(full.latents, cols),
    graph,
    conditionsMet: identifiabilityOf(graph).conditions_met,
  };
}

/** The subgraph over `keep` (in that order), with the edges among them. */
export function restrictGraph(graph: Graph, keep: readonly string[]): Graph {
  const index = new Map(keep.map((name, i) => [name, i]));
  const edges = graph.edges.flatMap(([a, b, mark]) => {
    const from = index.get(graph.nodes[a] as string);
    const to = index.get(graph.nodes[b] as string);
    return from === undefined || to === undefined ? [] : [[from, to, mark] as const];
  });
  return { nodes: keep.filter((n) => graph.nodes.includes(n)), edges };
}
