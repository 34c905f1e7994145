/**
 * The shared graph format (common/graph.ts) <-> proto crl.v1.Graph. Incoming graphs go through
 * parseGraph so a graph from the wire is held to exactly the rules of a graph from a file.
 */
import { invalidArgument } from '../errors.js';
import { parseGraph, type Graph } from '../graph.js';
import { EdgeMark, type Graph as ProtoGraph } from '../../proto/gen/crl/v1/graph.js';

/** Drops `meta`: the wire format has nodes and edges only. */
export function toProtoGraph(g: Graph): ProtoGraph {
  return {
    nodes: [...g.nodes],
    edges: g.edges.map(([from, to, mark]) => ({
      from,
      to,
      mark: mark === '-->' ? EdgeMark.EDGE_MARK_DIRECTED : EdgeMark.EDGE_MARK_UNDIRECTED,
    })),
  };
}

/** A validated graph; throws INVALID_ARGUMENT naming `field` (and the edge) at the first fault. */
export function fromProtoGraph(p: ProtoGraph | undefined, field: string): Graph {
  if (p === undefined) throw invalidArgument('graph is missing', { field });
  const edges = p.edges.map((e, k) => {
    if (e.mark === EdgeMark.EDGE_MARK_DIRECTED) return [e.from, e.to, '-->'];
    if (e.mark === EdgeMark.EDGE_MARK_UNDIRECTED) return [e.from, e.to, '---'];
    throw invalidArgument(
      `edge mark ${markName(e.mark)} must be EDGE_MARK_DIRECTED or EDGE_MARK_UNDIRECTED`,
      {
        field: `${field}.edges[${k}]`,
      },
    );
  });
  // parseGraph labels its errors with a file; here the "file" is the request field.
  return parseGraph({ nodes: p.nodes, edges }, field);
}

function markName(mark: EdgeMark): string {
  return EdgeMark[mark] ?? String(mark);
}
