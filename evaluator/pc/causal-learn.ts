/**
 * Conversion to and from causal-learn's `GeneralGraph.graph` matrix, where graph[i, j] is the mark
 * at i (not j) on the edge i-j, with TAIL = -1, ARROW = 1 and 0 for no edge: i --> j is
 * graph[i, j] = -1, graph[j, i] = 1. Used to compare with causal-learn output, and to reproduce
 * the order in which causal-learn enumerates edges (triples.ts).
 */
import { ARROW, NONE, Pdag, TAIL } from './pdag.js';

export const CL_TAIL = -1;
export const CL_ARROW = 1;

/** causal-learn matrix (row-major n x n) of a Pdag. */
export function toCausalLearnMatrix(g: Pdag): Int8Array {
  const n = g.n;
  const out = new Int8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const atI = g.mark(j, i);
      out[i * n + j] = atI === TAIL ? CL_TAIL : atI === ARROW ? CL_ARROW : 0;
    }
  }
  return out;
}

/** Pdag from a causal-learn matrix given as rows of -1 / 0 / 1. */
export function fromCausalLearnMatrix(rows: readonly (readonly number[])[]): Pdag {
  const n = rows.length;
  const g = new Pdag(n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const atI = rows[i]?.[j] ?? 0;
      const atJ = rows[j]?.[i] ?? 0;
      if (atI === 0 && atJ === 0) continue;
      const mi = atI === CL_ARROW ? ARROW : atI === CL_TAIL ? TAIL : NONE;
      const mj = atJ === CL_ARROW ? ARROW : atJ === CL_TAIL ? TAIL : NONE;
      if (mi === TAIL && mj === TAIL) g.setUndirected(i, j);
      else if (mi === TAIL && mj === ARROW) g.setDirected(i, j);
      else if (mi === ARROW && mj === TAIL) g.setDirected(j, i);
      else if (mi === ARROW && mj === ARROW) g.setBidirected(i, j);
      else throw new RangeError(`unsupported causal-learn marks (${atI}, ${atJ}) between ${i} and ${j}`);
    }
  }
  return g;
}
