/**
 * Draws the latent causal DAG. Nodes are ordered by modality, then index (`z1_1, z1_2, z2_1, ...`),
 * and every edge points forward in that order, so the order is topological and the graph is a DAG
 * by construction; inter-modal edges therefore go from lower to higher modality index.
 */
import { invalidArgument } from '../../../common/errors.js';
import type { Edge, Graph } from '../../../common/graph.js';
import { latentLayoutOf } from '../../../common/graph.js';
import type { Rng } from '../../../common/random.js';
import { structuralIdentifiability } from './identifiability.js';
import type { Coverage } from './spec.js';

/**
 * Picks exactly `interEdges` inter-modal edges such that every latent (coverage 'latent') or every
 * modality (coverage 'modality') has at least one, plus intra-modal edges with probability
 * `intraProb` each. The inter-modal set is drawn uniformly among the valid sets by rejection; when
 * valid sets are rare (few edges, many latents) a covering construction takes over.
 */
export function drawLatentGraph(
  latents: readonly number[],
  interEdges: number,
  intraProb: number,
  coverage: Coverage,
  rng: Rng,
  requireConditions = false,
): Graph {
  const { names, modalityOf } = latentLayoutOf(latents);
  const candidates: [number, number][] = [];
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) {
      if (modalityOf[a] !== modalityOf[b]) candidates.push([a, b]);
    }
  }
  // A "unit" is what must be touched: a latent, or a whole modality.
  const unitOf = (node: number): number => (coverage === 'latent' ? node : (modalityOf[node] as number));
  const units = coverage === 'latent' ? names.length : latents.length;
  const covers = (chosen: [number, number][]) => {
    const seen = new Set<number>();
    for (const [a, b] of chosen) {
      seen.add(unitOf(a));
      seen.add(unitOf(b));
    }
    return seen.size === units;
  };

  // Inter-modal edges only: intra-modal ones, drawn later, can only tell a pair further apart.
  const distinct = (chosen: [number, number][]) =>
    structuralIdentifiability({ nodes: names, edges: chosen.map(([a, b]) => [a, b, '-->'] as const) })
      .exchangeable.length === 0;
  const valid = (pick: [number, number][]) => covers(pick) && (!requireConditions || distinct(pick));

  let chosen: [number, number][] | undefined;
  for (let attempt = 0; attempt < 2000 && chosen === undefined; attempt++) {
    const pick = rng.shuffle([...candidates]).slice(0, interEdges);
    if (valid(pick)) chosen = pick;
  }
  const modalityOfUnit = (u: number): number => (coverage === 'latent' ? (modalityOf[u] as number) : u);
  chosen ??= coveringSet(candidates, modalityOfUnit, unitOf, units, interEdges, rng);
  if (requireConditions && !distinct(chosen)) {
    throw invalidArgument(
      `no draw of ${interEdges} inter-modal edges in 2000 gave every latent of a modality its own parents and children; change the edge count or drop the flag`,
      { field: '--require-conditions' },
    );
  }

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

/**
 * Touches every unit with as few edges as possible, then fills up to `count` at random. Greedy from
 * the modality with the most untouched units, paired with the other modality with the most: the
 * optimal order for covering a complete multipartite graph.
 */
function coveringSet(
  candidates: [number, number][],
  modalityOfUnit: (unit: number) => number,
  unitOf: (node: number) => number,
  units: number,
  count: number,
  rng: Rng,
): [number, number][] {
  const uncovered = new Set(rng.permutation(units));
  const chosen: [number, number][] = [];
  const used = new Set<string>();
  const uncoveredIn = (m: number) => [...uncovered].filter((u) => modalityOfUnit(u) === m);
  const busiest = (exclude: number): number | undefined => {
    let best: number | undefined;
    let most = 0;
    for (const u of uncovered) {
      const m = modalityOfUnit(u);
      const k = uncoveredIn(m).length;
      if (m !== exclude && k > most) {
        best = m;
        most = k;
      }
    }
    return best;
  };
  while (uncovered.size > 0) {
    const mu = busiest(-1) as number;
    const u = uncoveredIn(mu)[0] as number;
    uncovered.delete(u);
    const mv = busiest(mu);
    let options: [number, number][];
    if (mv !== undefined) {
      const v = uncoveredIn(mv)[0] as number;
      uncovered.delete(v);
      options = candidates.filter(([a, b]) => !used.has(`${a},${b}`) && joins(a, b, u, v, unitOf));
    } else {
      // Every other unit is already touched: any unused edge from u to another modality will do.
      options = candidates.filter(([a, b]) => !used.has(`${a},${b}`) && (unitOf(a) === u || unitOf(b) === u));
    }
    const edge = options[rng.int(options.length)] as [number, number];
    chosen.push(edge);
    used.add(`${edge[0]},${edge[1]}`);
  }
  const rest = rng.shuffle(candidates.filter(([a, b]) => !used.has(`${a},${b}`)));
  return chosen.concat(rest.slice(0, count - chosen.length));
}

function joins(a: number, b: number, u: number, v: number, unitOf: (node: number) => number): boolean {
  const ua = unitOf(a);
  const ub = unitOf(b);
  return (ua === u && ub === v) || (ua === v && ub === u);
}
