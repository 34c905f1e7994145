/**
 * Draws the latent causal DAG. Nodes are ordered by modality, then index (`z1_1, z1_2, z2_1, ...`),
 * and every edge points forward in that order, so the order is topological and the graph is a DAG
 * by construction; inter-modal edges therefore go from lower to higher modality index.
 */
import type { Edge, Graph } from '../../../common/graph.js';
import { latentName } from '../../../common/graph.js';
import type { Rng } from '../../../common/random.js';

export interface LatentLayout {
  /** Node names in topological order. */
  names: string[];
  /** Modality (0-based) of each node. */
  modalityOf: number[];
}

export function latentLayout(latents: readonly number[]): LatentLayout {
  const names: string[] = [];
  const modalityOf: number[] = [];
  latents.forEach((k, m) => {
    for (let i = 0; i < k; i++) {
      names.push(latentName(m + 1, i + 1));
      modalityOf.push(m);
    }
  });
  return { names, modalityOf };
}

/**
 * Picks exactly `interEdges` inter-modal edges such that every modality has at least one, plus
 * intra-modal edges with probability `intraProb` each. The inter-modal set is drawn uniformly
 * among the valid sets by rejection; when valid sets are rare (few edges, many modalities) a
 * covering construction takes over.
 */
export function drawLatentGraph(
  latents: readonly number[],
  interEdges: number,
  intraProb: number,
  rng: Rng,
): Graph {
  const { names, modalityOf } = latentLayout(latents);
  const candidates: [number, number][] = [];
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) {
      if (modalityOf[a] !== modalityOf[b]) candidates.push([a, b]);
    }
  }
  const modalities = latents.length;
  const covers = (chosen: [number, number][]) => {
    const seen = new Set<number>();
    for (const [a, b] of chosen) {
      seen.add(modalityOf[a] as number);
      seen.add(modalityOf[b] as number);
    }
    return seen.size === modalities;
  };

  let chosen: [number, number][] | undefined;
  for (let attempt = 0; attempt < 2000 && chosen === undefined; attempt++) {
    const pick = rng.shuffle([...candidates]).slice(0, interEdges);
    if (covers(pick)) chosen = pick;
  }
  chosen ??= coveringSet(candidates, modalityOf, modalities, interEdges, rng);

  const edges: Edge[] = chosen.map(([a, b]) => [a, b, '-->'] as const);
  if (intraProb > 0) {
    for (let a = 0; a < names.length; a++) {
      for (let b = a + 1; b < names.length; b++) {
        if (modalityOf[a] === modalityOf[b] && rng.uniform() < intraProb) edges.push([a, b, '-->']);
      }
    }
  }
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  return { nodes: names, edges };
}

/** Covers every modality with as few edges as possible, then fills up to `count` at random. */
function coveringSet(
  candidates: [number, number][],
  modalityOf: number[],
  modalities: number,
  count: number,
  rng: Rng,
): [number, number][] {
  const uncovered = new Set(rng.permutation(modalities));
  const chosen: [number, number][] = [];
  const used = new Set<string>();
  while (uncovered.size > 0) {
    const u = uncovered.values().next().value as number;
    uncovered.delete(u);
    // Prefer a partner that is also uncovered, so one edge covers two modalities.
    const partners = [...uncovered];
    const v =
      partners.length > 0
        ? (partners[rng.int(partners.length)] as number)
        : otherModality(u, modalities, rng);
    uncovered.delete(v);
    const options = candidates.filter(
      ([a, b]) =>
        !used.has(`${a},${b}`) &&
        ((modalityOf[a] === u && modalityOf[b] === v) || (modalityOf[a] === v && modalityOf[b] === u)),
    );
    const edge = options[rng.int(options.length)] as [number, number];
    chosen.push(edge);
    used.add(`${edge[0]},${edge[1]}`);
  }
  const rest = rng.shuffle(candidates.filter(([a, b]) => !used.has(`${a},${b}`)));
  return chosen.concat(rest.slice(0, count - chosen.length));
}

function otherModality(u: number, modalities: number, rng: Rng): number {
  const v = rng.int(modalities - 1);
  return v >= u ? v + 1 : v;
}
