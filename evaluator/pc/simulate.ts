/**
 * Random DAGs and linear-Gaussian data from them: ground truth for testing and benchmarking causal
 * discovery (PC on such data should recover the DAG's CPDAG as the sample grows).
 */
import type { Edge, Graph } from '../../common/graph.js';
import { topologicalOrder } from '../../common/graph.js';
import { makeTable, type Table } from '../../common/matrix.js';
import type { Rng } from '../../common/random.js';

/**
 * Erdos-Renyi DAG over p nodes: a random causal order, each forward pair an edge with probability
 * expectedDegree / (p - 1), so a node has `expectedDegree` neighbours on average. Node names
 * default to x1..xp.
 */
export function randomDag(p: number, expectedDegree: number, rng: Rng, names?: readonly string[]): Graph {
  const nodes = names ?? Array.from({ length: p }, (_, i) => `x${i + 1}`);
  const order = rng.permutation(p);
  const prob = p > 1 ? Math.min(1, expectedDegree / (p - 1)) : 0;
  const edges: Edge[] = [];
  for (let a = 0; a < p; a++) {
    for (let b = a + 1; b < p; b++)
      if (rng.uniform() < prob) edges.push([order[a] as number, order[b] as number, '-->']);
  }
  return { nodes, edges };
}

export interface LinearSem {
  dag: Graph;
  /** weights[i * p + j]: coefficient of parent i in node j's equation. */
  weights: Float64Array;
  /** Standard deviation of each node's Gaussian noise. */
  noiseSd: Float64Array;
}

/**
 * Edge weights uniform in +-[minWeight, maxWeight] (bounded away from 0; only positive with
 * `positive`, which rules out cancelling paths, the usual near-unfaithfulness), unit noise. With
 * `standardize` (the default) each equation is then rescaled so every variable has unit variance:
 * a parent's weight applies to the standardised parent. Otherwise variances grow along causal
 * chains and a low-variance parent's effect on a high-variance child becomes a partial
 * correlation too weak to detect at any practical sample size.
 */
export function randomLinearSem(
  dag: Graph,
  rng: Rng,
  options: { minWeight?: number; maxWeight?: number; positive?: boolean; standardize?: boolean } = {},
): LinearSem {
  const p = dag.nodes.length;
  const lo = options.minWeight ?? 0.5;
  const hi = options.maxWeight ?? 1.5;
  const weights = new Float64Array(p * p);
  const sign = (): number => (options.positive ? 1 : rng.sign());
  for (const [a, b] of dag.edges) weights[a * p + b] = sign() * rng.between(lo, hi);
  const noiseSd = new Float64Array(p).fill(1);
  if (options.standardize ?? true) {
    const order = topologicalOrder(dag);
    if (!order) throw new RangeError('randomLinearSem needs a DAG');
    // x = M e: row j of M expresses x_j in the noises; var(x_j) = |row j|^2 with unit noises.
    const m = new Float64Array(p * p);
    for (const j of order) {
      const row = j * p;
      m[row + j] = 1;
      for (let i = 0; i < p; i++) {
        const w = weights[i * p + j] as number;
        if (w !== 0)
          for (let k = 0; k < p; k++) m[row + k] = (m[row + k] as number) + w * (m[i * p + k] as number);
      }
      let v = 0;
      for (let k = 0; k < p; k++) v += (m[row + k] as number) ** 2;
      const sd = Math.sqrt(v);
      for (let k = 0; k < p; k++) m[row + k] = (m[row + k] as number) / sd;
      for (let i = 0; i < p; i++) weights[i * p + j] = (weights[i * p + j] as number) / sd;
      noiseSd[j] = 1 / sd;
    }
  }
  return { dag, weights, noiseSd };
}

/** n rows from the structural equations x_j = sum_i w_ij x_i + e_j, columns named as the DAG's nodes. */
export function sampleLinearSem(sem: LinearSem, n: number, rng: Rng): Table {
  const p = sem.dag.nodes.length;
  const order = topologicalOrder(sem.dag);
  if (!order) throw new RangeError('sampleLinearSem needs a DAG');
  const parents: number[][] = Array.from({ length: p }, () => []);
  for (const [a, b] of sem.dag.edges) parents[b]?.push(a);
  const data = new Float64Array(n * p);
  for (let r = 0; r < n; r++) {
    const base = r * p;
    for (const j of order) {
      let v = (sem.noiseSd[j] as number) * rng.normal();
      for (const i of parents[j] as number[])
        v += (sem.weights[i * p + j] as number) * (data[base + i] as number);
      data[base + j] = v;
    }
  }
  return makeTable(sem.dag.nodes, n, data);
}
