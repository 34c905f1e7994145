/**
 * The CPDAG (essential graph) of a DAG: its skeleton and v-structures, closed under Meek's rules
 * R1-R3. What PC estimates, and so what an estimate should be scored against when the truth is a
 * DAG: edges whose direction no observational data can reveal are undirected in both.
 */
import { invalidArgument } from '../../common/errors.js';
import { isDag, type Graph } from '../../common/graph.js';
import { applyMeekRules } from './meek.js';
import { Pdag } from './pdag.js';

/** CPDAG of `dag`, over the same nodes (meta is not carried over). */
export function cpdagOfDag(dag: Graph): Graph {
  if (!isDag(dag)) throw invalidArgument('the CPDAG is defined for a DAG (directed edges, no cycle)');
  const n = dag.nodes.length;
  const parents: number[][] = Array.from({ length: n }, () => []);
  const g = new Pdag(n);
  for (const [a, b] of dag.edges) {
    parents[b]?.push(a);
    g.setUndirected(a, b);
  }
  for (let y = 0; y < n; y++) {
    const pa = parents[y] as number[];
    for (let i = 0; i < pa.length; i++) {
      for (let j = i + 1; j < pa.length; j++) {
        const x = pa[i] as number;
        const z = pa[j] as number;
        if (!g.adjacent(x, z)) {
          g.setDirected(x, y);
          g.setDirected(z, y);
        }
      }
    }
  }
  return applyMeekRules(g).toGraph(dag.nodes);
}
