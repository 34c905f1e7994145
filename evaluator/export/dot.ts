/**
 * Graphviz DOT for a graph in the shared JSON shape: directed edges as arrows, undirected (CPDAG)
 * edges without arrowheads, bidirected ones (meta.bidirected) with two, nodes filled by group.
 */
import type { Graph } from '../../common/graph.js';
import type { EdgeFrequency } from '../pc/bootstrap.js';
import { groupColours, modalityGroup } from './palette.js';

export interface DotOptions {
  /** Graph label. */
  title?: string;
  /** Group (colour class) of a node. Default: `modalityGroup` (z<m>_<i> by m, else tabular). */
  groupOf?: (name: string) => string;
  /** Draw a legend of the groups. Default: when there is more than one group. */
  legend?: boolean;
  /** Bootstrap frequencies: each drawn edge is labelled with how often it appeared as drawn. */
  frequencies?: readonly EdgeFrequency[];
}

/** DOT text of `graph`; deterministic (nodes and edges in the graph's order). */
export function toDot(graph: Graph, options: DotOptions = {}): string {
  const groupOf = options.groupOf ?? modalityGroup;
  const groups = graph.nodes.map(groupOf);
  const colours = groupColours(groups);
  const freq = new Map((options.frequencies ?? []).map((f) => [`${f.a},${f.b}`, f] as const));
  const lines: string[] = [`digraph ${quote(options.title ?? 'G')} {`];
  if (options.title !== undefined) lines.push(`  label=${quote(options.title)};`, '  labelloc=t;');
  lines.push('  node [shape=ellipse, style=filled, fontname="Helvetica", penwidth=0.8];');
  lines.push('  edge [fontname="Helvetica", fontsize=10];');
  graph.nodes.forEach((name, i) => {
    const g = groups[i] as string;
    lines.push(`  ${quote(name)} [fillcolor=${quote(colours.get(g) as string)}, tooltip=${quote(g)}];`);
  });
  for (const [a, b, mark] of graph.edges) {
    const attrs: string[] = [];
    if (mark === '---') attrs.push('dir=none');
    const f = freq.get(`${Math.min(a, b)},${Math.max(a, b)}`);
    if (f) {
      const share = mark === '---' ? f.undirected : a < b ? f.forward : f.backward;
      attrs.push(`label=${quote(share.toFixed(2))}`);
    }
    lines.push(
      `  ${quote(graph.nodes[a] as string)} -> ${quote(graph.nodes[b] as string)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`,
    );
  }
  const bi = graph.meta?.['bidirected'];
  if (Array.isArray(bi)) {
    for (const [a, b] of bi as [number, number][]) {
      lines.push(`  ${quote(graph.nodes[a] as string)} -> ${quote(graph.nodes[b] as string)} [dir=both];`);
    }
  }
  const distinct = [...new Set(groups)];
  if (options.legend ?? distinct.length > 1) {
    lines.push('  subgraph cluster_legend {', '    label="groups"; fontname="Helvetica"; style=dashed;');
    distinct.sort().forEach((g, i) => {
      lines.push(
        `    ${quote(`__crl_legend_${i}`)} [label=${quote(g)}, shape=box, fillcolor=${quote(colours.get(g) as string)}];`,
      );
    });
    lines.push('  }');
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** A DOT double-quoted string. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
