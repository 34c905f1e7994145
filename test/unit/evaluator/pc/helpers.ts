/** Shared fixtures for the PC tests: scripted CI tests, population covariances, exact Wishart draws. */
import type { Graph } from '../../../../common/graph.js';
import { topologicalOrder } from '../../../../common/graph.js';
import type { Rng } from '../../../../common/random.js';
import { CiTest } from '../../../../evaluator/ci/ci-test.js';
import type { LinearSem } from '../../../../evaluator/pc/simulate.js';

/** A CI test answering from a function of the canonical query (x < y, s sorted). */
export class ScriptedTest extends CiTest {
  constructor(
    names: readonly string[],
    private readonly answer: (x: number, y: number, s: readonly number[]) => number,
  ) {
    super(names);
  }

  protected pValue(x: number, y: number, s: readonly number[]): number {
    return this.answer(x, y, s);
  }
}

export const names = (p: number): string[] => Array.from({ length: p }, (_, i) => `x${i + 1}`);

/** Graph from "a->b, b--c" shorthand over the given node names. */
export function graphOf(nodes: readonly string[], spec: string): Graph {
  const edges = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(\S+?)\s*(->|--)\s*(\S+)$/.exec(s);
      if (!m) throw new Error(`bad edge ${s}`);
      const a = nodes.indexOf(m[1] as string);
      const b = nodes.indexOf(m[3] as string);
      if (a < 0 || b < 0) throw new Error(`unknown node in ${s}`);
      return [a, b, m[2] === '->' ? '-->' : '---'] as const;
    });
  return { nodes, edges };
}

/** Population covariance of a linear SEM: x = M e with unit noises, so Sigma = M M'. Returns M. */
export function mixingMatrix(sem: LinearSem): Float64Array {
  const p = sem.dag.nodes.length;
  const order = topologicalOrder(sem.dag) as number[];
  const m = new Float64Array(p * p);
  for (const j of order) {
    m[j * p + j] = sem.noiseSd[j] as number;
    for (let i = 0; i < p; i++) {
      const w = sem.weights[i * p + j] as number;
      if (w !== 0)
        for (let k = 0; k < p; k++) m[j * p + k] = (m[j * p + k] as number) + w * (m[i * p + k] as number);
    }
  }
  return m;
}

/**
 * Correlation matrix of n i.i.d. rows from the SEM, drawn exactly without the rows: the centred
 * scatter matrix is Wishart(Sigma, n - 1), sampled by Bartlett's decomposition (Sigma = M M',
 * W = M A A' M' with A lower triangular, A_ii^2 ~ chi2(n - 1 - i), A_ij ~ N(0, 1)). Lets a test use
 * sample sizes of millions in microseconds.
 */
export function sampleCorrelation(sem: LinearSem, n: number, rng: Rng): Float64Array {
  const p = sem.dag.nodes.length;
  const m = mixingMatrix(sem);
  const a = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    a[i * p + i] = Math.sqrt(chiSquare(n - 1 - i, rng));
    for (let j = 0; j < i; j++) a[i * p + j] = rng.normal();
  }
  const ma = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = j; k < p; k++) s += (m[i * p + k] as number) * (a[k * p + j] as number);
      ma[i * p + j] = s;
    }
  }
  const w = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += (ma[i * p + k] as number) * (ma[j * p + k] as number);
      w[i * p + j] = s;
    }
  }
  const c = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      c[i * p + j] =
        i === j
          ? 1
          : (w[i * p + j] as number) / Math.sqrt((w[i * p + i] as number) * (w[j * p + j] as number));
    }
  }
  return c;
}

/** chi-square(k) by the Wilson-Hilferty transform: accurate to ~1e-6 relative for k in the thousands and up. */
function chiSquare(k: number, rng: Rng): number {
  const v = 2 / (9 * k);
  return k * (1 - v + rng.normal() * Math.sqrt(v)) ** 3;
}
