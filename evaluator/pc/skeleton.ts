/**
 * Adjacency search of the PC algorithm, as causal-learn's `skeleton_discovery`. Starting from the
 * complete graph, depth d = 0, 1, ... tests each adjacent ordered pair (x, y) given every d-subset
 * of x's other neighbours, while some node has more than d neighbours.
 *
 * Stable (order-independent, Colombo & Maathuis 2014; the default): neighbour sets are frozen for a
 * whole depth and removals applied at its end; every subset is tested, and the union of all
 * separating sets found is recorded. Original: a pair is removed as soon as one test accepts
 * independence, its first separating set recorded, and x's neighbour list is the one read when x's
 * turn started.
 */
import type { CiTest } from '../ci/ci-test.js';
import type { Background } from './background.js';
import { Pdag } from './pdag.js';
import { Sepsets } from './sepsets.js';

export interface SkeletonOptions {
  /** Independence is accepted when p > alpha (strictly). */
  alpha: number;
  stable: boolean;
  /** Largest conditioning-set size tested (Infinity for no limit). */
  maxK: number;
  background?: Background | undefined;
}

export interface SkeletonResult {
  graph: Pdag;
  sepsets: Sepsets;
  /** Largest conditioning-set size that was tested. */
  depth: number;
}

/**
 * Runs the adjacency search. Pairs the background knowledge bans (forbidden both ways) are removed
 * up front with an empty separating set, which is what causal-learn ends up recording for them;
 * pairs with a required edge are never tested or removed.
 */
export function discoverSkeleton(test: CiTest, options: SkeletonOptions): SkeletonResult {
  const n = test.nVars;
  const { alpha, stable, maxK, background } = options;
  const g = Pdag.complete(n);
  const sepsets = new Sepsets(n);
  if (background) {
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (background.isBanned(i, j)) {
          g.remove(i, j);
          sepsets.add(i, j, []);
        }
      }
    }
  }

  let depth = -1;
  const s: number[] = [];
  while (g.maxDegree() - 1 > depth && depth < maxK) {
    depth++;
    const removals: number[] = [];
    for (let x = 0; x < n; x++) {
      const nx = g.neighbors(x);
      if (nx.length - 1 < depth) continue;
      for (const y of nx) {
        if (background?.isRequiredAdjacency(x, y)) continue;
        const others = nx.filter((v) => v !== y);
        const union = new Set<number>();
        let separated = false;
        // Subsets of `others` of size `depth` in lexicographic order (itertools.combinations).
        const idx = Array.from({ length: depth }, (_, i) => i);
        for (;;) {
          s.length = depth;
          for (let i = 0; i < depth; i++) s[i] = others[idx[i] as number] as number;
          if (test.test(x, y, s) > alpha) {
            separated = true;
            if (!stable) break;
            for (const v of s) union.add(v);
          }
          let i = depth - 1;
          while (i >= 0 && idx[i] === others.length - depth + i) i--;
          if (i < 0) break;
          idx[i] = (idx[i] as number) + 1;
          for (let j = i + 1; j < depth; j++) idx[j] = (idx[j - 1] as number) + 1;
        }
        if (!separated) continue;
        if (stable) {
          removals.push(x, y);
          sepsets.add(x, y, [...union]);
        } else {
          g.remove(x, y);
          sepsets.add(x, y, s);
        }
      }
    }
    for (let k = 0; k < removals.length; k += 2) g.remove(removals[k] as number, removals[k + 1] as number);
  }
  return { graph: g, sepsets, depth: Math.max(depth, 0) };
}
