/**
 * Orients skeleton edges that background knowledge decides, before colliders are looked for
 * (causal-learn's `orient_by_background_knowledge`): an edge one of whose directions is forbidden
 * points the other way, and a required edge points as required.
 */
import type { Background } from './background.js';
import type { Pdag } from './pdag.js';

/** Returns a new graph with every undirected edge that `bk` decides oriented. */
export function orientByBackground(graph: Pdag, bk: Background): Pdag {
  const g = graph.clone();
  for (let i = 0; i < g.n; i++) {
    for (let j = i + 1; j < g.n; j++) {
      if (!g.isUndirected(i, j)) continue;
      // causal-learn's order of checks, with (node1, node2) = (i, j), i < j.
      if (bk.isForbidden(j, i)) g.setDirected(i, j);
      else if (bk.isForbidden(i, j)) g.setDirected(j, i);
      else if (bk.isRequired(j, i)) g.setDirected(j, i);
      else if (bk.isRequired(i, j)) g.setDirected(i, j);
    }
  }
  return g;
}
