/**
 * Unshielded triples, triangles and kites, enumerated in exactly the order causal-learn's
 * `CausalGraph` produces them. The order matters: colliders under the "existing" priority and the
 * Meek rules are applied one at a time, so on conflicting (unfaithful) input the first applicable
 * orientation wins, and matching causal-learn edge for edge means visiting candidates in its order.
 *
 * Everything derives from causal-learn's adjacency list (`find_adj`): each adjacency appears as
 * (a, b) and as (b, a); first come the pairs (a, b) with a tail at b, then those with an arrowhead
 * at b, each block ordered by (b, a) (a row-major scan of causal-learn's matrix).
 */
import { ARROW, TAIL, type Pdag } from './pdag.js';

export type Triple = readonly [number, number, number];
export type Kite = readonly [number, number, number, number];

/**
 * causal-learn's `find_adj()`: (c, r) for every r, c with graph[r, c] = TAIL (row-major), then the
 * same for ARROW. graph[r, c] is the mark at r, which is `mark(c, r)` here.
 */
export function adjacencyPairs(g: Pdag): [number, number][] {
  const out: [number, number][] = [];
  for (const want of [TAIL, ARROW]) {
    for (let r = 0; r < g.n; r++) for (let c = 0; c < g.n; c++) if (g.mark(c, r) === want) out.push([c, r]);
  }
  return out;
}

/** Adjacency pairs grouped by their first node, each group in `adjacencyPairs` order. */
function byFirst(g: Pdag, adj: readonly [number, number][]): number[][] {
  const groups: number[][] = Array.from({ length: g.n }, () => []);
  for (const [a, b] of adj) groups[a]?.push(b);
  return groups;
}

/** causal-learn's `find_unshielded_triples()`: (i, j, k) with i ~ j ~ k, i and k not adjacent. */
export function unshieldedTriples(g: Pdag): Triple[] {
  const adj = adjacencyPairs(g);
  const next = byFirst(g, adj);
  const out: Triple[] = [];
  for (const [i, j] of adj) {
    for (const k of next[j] as number[]) if (k !== i && !g.adjacent(i, k)) out.push([i, j, k]);
  }
  return out;
}

/** causal-learn's `find_triangles()`: (i, j, k) pairwise adjacent, every rotation and reflection. */
export function triangles(g: Pdag): Triple[] {
  const adj = adjacencyPairs(g);
  const next = byFirst(g, adj);
  const out: Triple[] = [];
  for (const [i, j] of adj) {
    for (const k of next[j] as number[]) if (k !== i && g.adjacent(i, k)) out.push([i, j, k]);
  }
  return out;
}

/**
 * causal-learn's `find_kites()`: (i, j, k, l) where (i, j, l) and (i, k, l) are triangles, j < k
 * and j, k are not adjacent - the configuration of Meek's rule 3 with i --- l the diagonal.
 */
export function kites(g: Pdag): Kite[] {
  const tri = triangles(g);
  const groups = new Map<number, Triple[]>();
  for (const t of tri) {
    const key = t[0] * g.n + t[2];
    const list = groups.get(key);
    if (list) list.push(t);
    else groups.set(key, [t]);
  }
  const out: Kite[] = [];
  for (const t of tri) {
    for (const u of groups.get(t[0] * g.n + t[2]) as Triple[]) {
      if (t[1] < u[1] && !g.adjacent(t[1], u[1])) out.push([t[0], t[1], u[1], t[2]]);
    }
  }
  return out;
}
