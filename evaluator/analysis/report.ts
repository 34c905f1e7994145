/**
 * The phenotype-analysis report, as the paper's Figure 6 discussion reads the PC output: for each
 * learned latent, the edges that touch it (into it, out of it, undirected), with the other
 * endpoint's modality or tabular group. Built once as data (analysis.json), then rendered as
 * markdown (report.md), so the two never disagree.
 */
import type { Graph } from '../../common/graph.js';
import type { Grouping } from './groups.js';

/** An edge seen from one latent: `in` is other → latent, `out` latent → other. */
export type LatentEdgeKind = 'in' | 'out' | 'undirected' | 'bidirected';

export interface LatentEdge {
  kind: LatentEdgeKind;
  other: string;
  other_group: string;
  other_is_latent: boolean;
}

export interface LatentEntry {
  name: string;
  group: string;
  edges: LatentEdge[];
}

export interface EdgeCounts {
  total: number;
  directed: number;
  undirected: number;
  bidirected: number;
  /** Edges with at least one latent endpoint. */
  touching_latents: number;
}

/** How the analysis was run, carried into analysis.json and the report as given. */
export interface AnalysisContext {
  participants: number;
  alpha: number;
  test: string;
  /** Largest conditioning set, null for no limit. */
  max_cond: number | null;
  join: {
    mode: 'id' | 'position';
    id_column: string | null;
    dropped: { latents: number; tabular: number };
    dropped_examples: { latents: string[]; tabular: string[] };
  };
  inputs: { run: string; latents: string; tabular: string; background: string | null };
  /** Anything the reader should know (e.g. modality names that could not be read). */
  notes: string[];
}

export interface Analysis extends AnalysisContext {
  edges: EdgeCounts;
  groups: { name: string; kind: 'modality' | 'tabular'; modality: number | null; variables: string[] }[];
  latents: LatentEntry[];
  /** Edges between two tabular variables. */
  other_edges: { from: string; to: string; mark: '-->' | '---' | '<->' }[];
}

const KIND_ORDER: Record<LatentEdgeKind, number> = { in: 0, out: 1, undirected: 2, bidirected: 3 };

/**
 * The analysis of a PC graph over latents and tabular variables. Bidirected pairs are read from
 * `graph.meta.bidirected` (PC's `<->` edges, only with collider priority "bidirected").
 */
export function buildAnalysis(graph: Graph, grouping: Grouping, context: AnalysisContext): Analysis {
  const name = (i: number): string => graph.nodes[i] as string;
  const groupName = (v: string): string => grouping.groupOf.get(v)?.name ?? 'unknown';
  const isLatent = (v: string): boolean => grouping.groupOf.get(v)?.kind === 'modality';
  const bidirected = bidirectedPairs(graph);

  const latents: LatentEntry[] = grouping.groups
    .filter((g) => g.kind === 'modality')
    .flatMap((g) => g.variables.map((v) => ({ name: v, group: g.name, edges: [] as LatentEdge[] })));
  const entry = new Map(latents.map((e) => [e.name, e] as const));
  const order = new Map(graph.nodes.map((v, i) => [v, i] as const));
  const add = (at: string, kind: LatentEdgeKind, other: string): void => {
    entry.get(at)?.edges.push({
      kind,
      other,
      other_group: groupName(other),
      other_is_latent: isLatent(other),
    });
  };

  const other_edges: Analysis['other_edges'] = [];
  let touching = 0;
  const visit = (a: string, b: string, mark: '-->' | '---' | '<->'): void => {
    if (!isLatent(a) && !isLatent(b)) {
      other_edges.push({ from: a, to: b, mark });
      return;
    }
    touching += 1;
    if (mark === '-->') {
      add(a, 'out', b);
      add(b, 'in', a);
    } else {
      const kind = mark === '---' ? 'undirected' : 'bidirected';
      add(a, kind, b);
      add(b, kind, a);
    }
  };
  for (const [a, b, mark] of graph.edges) visit(name(a), name(b), mark);
  for (const [a, b] of bidirected) visit(name(a), name(b), '<->');

  for (const e of latents) {
    e.edges.sort(
      (x, y) =>
        KIND_ORDER[x.kind] - KIND_ORDER[y.kind] ||
        (order.get(x.other) as number) - (order.get(y.other) as number),
    );
  }
  const directed = graph.edges.filter((e) => e[2] === '-->').length;
  return {
    ...context,
    edges: {
      total: graph.edges.length + bidirected.length,
      directed,
      undirected: graph.edges.length - directed,
      bidirected: bidirected.length,
      touching_latents: touching,
    },
    groups: grouping.groups.map((g) => ({
      name: g.name,
      kind: g.kind,
      modality: g.modality ?? null,
      variables: [...g.variables],
    })),
    latents,
    other_edges,
  };
}

/** The analysis as a markdown report. */
export function formatReport(a: Analysis): string {
  const lines: string[] = ['# Phenotype analysis: learned latents and tabular variables', ''];
  const e = a.edges;
  lines.push(
    `**Summary:** ${a.participants} participants used, alpha = ${a.alpha}, test = ${a.test}, ` +
      `${plural(e.total, 'edge')} (${e.directed} directed, ${e.undirected} undirected` +
      `${e.bidirected > 0 ? `, ${e.bidirected} bidirected` : ''}), ${e.touching_latents} touching a latent.`,
    '',
  );
  lines.push(`- Run: ${code(a.inputs.run)} (latents from ${code(a.inputs.latents)})`);
  lines.push(`- Tabular variables: ${code(a.inputs.tabular)}`);
  lines.push(`- ${joinLine(a)}`);
  lines.push(`- Background knowledge: ${a.inputs.background === null ? 'none' : code(a.inputs.background)}`);
  lines.push(`- Largest conditioning set: ${a.max_cond === null ? 'no limit' : a.max_cond}`);
  lines.push('- Groups:');
  for (const g of a.groups) lines.push(`  - ${g.name}: ${g.variables.map(code).join(', ')}`);
  for (const note of a.notes) lines.push(`- Note: ${note}`);
  lines.push('');

  lines.push('## Edges touching each latent', '');
  lines.push(
    '`a → b`: a causes b; `a — b`: adjacent, direction not identified from these data' +
      `${e.bidirected > 0 ? '; `a ↔ b`: conflicting collider orientations' : ''}.`,
    '',
  );
  for (const l of a.latents) {
    lines.push(`### ${code(l.name)} (${l.group})`, '');
    if (l.edges.length === 0) lines.push('No edges.');
    for (const x of l.edges) {
      const other = `${code(x.other)} (${x.other_group})`;
      const self = code(l.name);
      if (x.kind === 'in') lines.push(`- ${other} → ${self}`);
      else if (x.kind === 'out') lines.push(`- ${self} → ${other}`);
      else if (x.kind === 'undirected') lines.push(`- ${self} — ${other}, undirected`);
      else lines.push(`- ${self} ↔ ${other}, bidirected`);
    }
    lines.push('');
  }

  lines.push('## Edges between tabular variables', '');
  if (a.other_edges.length === 0) lines.push('None.');
  for (const x of a.other_edges) {
    const arrow = x.mark === '-->' ? '→' : x.mark === '---' ? '—' : '↔';
    lines.push(`- ${code(x.from)} ${arrow} ${code(x.to)}`);
  }
  lines.push('');
  return lines.join('\n');
}

function joinLine(a: Analysis): string {
  const j = a.join;
  if (j.mode === 'position') {
    return `Joined by row position (neither file has a participant ID column): ${a.participants} participants`;
  }
  const dropped = (n: number, file: string, ex: string[]): string =>
    n === 0
      ? ''
      : `; ${plural(n, 'row')} of ${code(file)} without a match left out (e.g. ${ex.map(code).join(', ')})`;
  return (
    `Joined by participant ID ${code(j.id_column ?? '')}: ${a.participants} participants in both files` +
    dropped(j.dropped.latents, a.inputs.latents, j.dropped_examples.latents) +
    dropped(j.dropped.tabular, a.inputs.tabular, j.dropped_examples.tabular)
  );
}

function bidirectedPairs(graph: Graph): [number, number][] {
  const bi = graph.meta?.['bidirected'];
  if (!Array.isArray(bi)) return [];
  return bi.filter(
    (p): p is [number, number] =>
      Array.isArray(p) &&
      p.length === 2 &&
      p.every((i) => Number.isInteger(i) && i >= 0 && i < graph.nodes.length),
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Inline code span that survives backticks in the text. */
function code(s: string): string {
  const fence = s.includes('`') ? '``' : '`';
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}
