/**
 * The CPDAG of a DAG computed independently of the PC orientation code, by Chickering's (1995)
 * characterisation of compelled edges: order the edges, then label each compelled or reversible.
 * Compelled edges stay directed; reversible ones become undirected.
 */
import type { Edge, Graph } from '../../../../common/graph.js';
import { topologicalOrder } from '../../../../common/graph.js';

export function cpdagOf(dag: Graph): Graph {
  const n = dag.nodes.length;
  const order = topologicalOrder(dag);
  if (!order) throw new Error('not a DAG');
  const rank = new Array<number>(n);
  order.forEach((v, i) => (rank[v] = i));
  const isParent = Array.from({ length: n }, () => new Uint8Array(n)); // isParent[a][b]: a -> b
  for (const [a, b] of dag.edges) (isParent[a] as Uint8Array)[b] = 1;

  // Order-Edges: repeatedly take the lowest node y with an unordered incoming edge, and of its
  // unordered parents the highest x; x -> y gets the next number.
  const edges = dag.edges.map(([a, b]) => ({
    x: a,
    y: b,
    ord: -1,
    label: 'unknown' as 'unknown' | 'compelled' | 'reversible',
  }));
  let next = 0;
  for (;;) {
    const open = edges.filter((e) => e.ord < 0);
    if (open.length === 0) break;
    const y = open.reduce((best, e) => (rank[e.y]! < rank[best]! ? e.y : best), open[0]!.y);
    const into = open.filter((e) => e.y === y);
    const pick = into.reduce((best, e) => (rank[e.x]! > rank[best.x]! ? e : best), into[0]!);
    pick.ord = next++;
  }
  edges.sort((a, b) => a.ord - b.ord);
  const edgeOf = (a: number, b: number) => edges.find((e) => e.x === a && e.y === b)!;

  for (;;) {
    const e = edges.find((f) => f.label === 'unknown');
    if (!e) break;
    const { x, y } = e;
    let done = false;
    for (const w of edges.filter((f) => f.y === x && f.label === 'compelled').map((f) => f.x)) {
      if (!isParent[w]![y]) {
        for (const f of edges) if (f.y === y) f.label = 'compelled';
        done = true;
        break;
      }
      edgeOf(w, y).label = 'compelled';
    }
    if (done) continue;
    const other = edges.some((f) => f.y === y && f.x !== x && !isParent[f.x]![x]);
    for (const f of edges)
      if (f.y === y && f.label === 'unknown') f.label = other ? 'compelled' : 'reversible';
    e.label = other ? 'compelled' : 'reversible';
  }
  const out: Edge[] = edges
    .map((e): Edge =>
      e.label === 'compelled' ? [e.x, e.y, '-->'] : [Math.min(e.x, e.y), Math.max(e.x, e.y), '---'],
    )
    .sort(
      (a, b) => Math.min(a[0], a[1]) - Math.min(b[0], b[1]) || Math.max(a[0], a[1]) - Math.max(b[0], b[1]),
    );
  return { nodes: dag.nodes, edges: out };
}

/** Canonical text of a graph's edges by node name, for equality checks with readable diffs. */
export function edgeList(g: Graph): string[] {
  return g.edges
    .map(([a, b, m]) =>
      m === '---'
        ? [g.nodes[a] as string, g.nodes[b] as string].sort().join(' --- ')
        : `${g.nodes[a]} --> ${g.nodes[b]}`,
    )
    .sort();
}
