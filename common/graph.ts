/**
 * The graph JSON format every component reads and writes:
 *
 *   {"nodes": ["z1_1", "z1_2", "z2_1"], "edges": [[0, 2, "-->"], [1, 2, "---"]]}
 *
 * Indices are 0-based into `nodes`. `[a, b, "-->"]` is a directed edge a -> b; `[a, b, "---"]`
 * an undirected edge (a CPDAG's reversible edge). At most one edge per unordered pair, no
 * self-loops. Extra top-level fields are kept as `meta`.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from './errors.js';

export type EdgeMark = '-->' | '---';
export type Edge = readonly [from: number, to: number, mark: EdgeMark];

export interface Graph {
  readonly nodes: readonly string[];
  readonly edges: readonly Edge[];
  readonly meta?: Readonly<Record<string, unknown>>;
}

export function readGraph(path: string): Graph {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalidArgument(`cannot read graph JSON: ${(err as Error).message}`, { file: path }, err);
  }
  return parseGraph(raw, path);
}

/** Validates a parsed JSON value as a graph; `file` only labels errors. */
export function parseGraph(raw: unknown, file = '<graph>'): Graph {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidArgument('graph must be a JSON object with "nodes" and "edges"', { file });
  }
  const { nodes, edges, ...meta } = raw as Record<string, unknown>;
  if (!Array.isArray(nodes) || !nodes.every((n) => typeof n === 'string' && n !== '')) {
    throw invalidArgument('"nodes" must be an array of non-empty strings', { file, field: 'nodes' });
  }
  const names = nodes as string[];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined)
    throw invalidArgument(`duplicate node ${JSON.stringify(dup)}`, { file, field: 'nodes' });
  if (!Array.isArray(edges)) throw invalidArgument('"edges" must be an array', { file, field: 'edges' });

  const pairs = new Set<string>();
  const out: Edge[] = edges.map((e, k) => {
    const field = `edges[${k}]`;
    if (!Array.isArray(e) || e.length !== 3) {
      throw invalidArgument('an edge is [from, to, "-->" | "---"]', { file, field });
    }
    const [a, b, mark] = e as unknown[];
    for (const v of [a, b]) {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= names.length) {
        throw invalidArgument(`node index ${JSON.stringify(v)} is not in 0..${names.length - 1}`, {
          file,
          field,
        });
      }
    }
    if (mark !== '-->' && mark !== '---') {
      throw invalidArgument(`edge mark ${JSON.stringify(mark)} must be "-->" or "---"`, { file, field });
    }
    if (a === b) throw invalidArgument('self-loop', { file, field });
    const key = pairKey(a as number, b as number);
    if (pairs.has(key)) throw invalidArgument('a second edge between the same two nodes', { file, field });
    pairs.add(key);
    return [a as number, b as number, mark] as const;
  });
  return Object.keys(meta).length > 0 ? { nodes: names, edges: out, meta } : { nodes: names, edges: out };
}

export function formatGraph(graph: Graph): string {
  const edges = graph.edges.map((e) => `    ${JSON.stringify(e)}`).join(',\n');
  const head = { nodes: graph.nodes, ...(graph.meta ?? {}) };
  const headText = JSON.stringify(head, null, 2).slice(0, -2);
  return `${headText},\n  "edges": [${edges.length > 0 ? `\n${edges}\n  ` : ''}]\n}\n`;
}

function pairKey(a: number, b: number): string {
  return a < b ? `${a},${b}` : `${b},${a}`;
}

/**
 * Adjacency matrix in the cdt convention: A[i][j] = 1 for i -> j; an undirected edge sets both
 * A[i][j] and A[j][i].
 */
export function toAdjacency(graph: Graph): Uint8Array[] {
  const n = graph.nodes.length;
  const a = Array.from({ length: n }, () => new Uint8Array(n));
  for (const [i, j, mark] of graph.edges) {
    (a[i] as Uint8Array)[j] = 1;
    if (mark === '---') (a[j] as Uint8Array)[i] = 1;
  }
  return a;
}

/** Graph from a 0/1 adjacency (cdt convention); symmetric pairs become undirected edges. */
export function fromAdjacency(nodes: readonly string[], a: readonly ArrayLike<number>[]): Graph {
  const edges: Edge[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < nodes.length; j++) {
      if (i === j || !a[i]?.[j]) continue;
      if (a[j]?.[i]) {
        if (i < j) edges.push([i, j, '---']);
      } else edges.push([i, j, '-->']);
    }
  }
  return { nodes, edges };
}

/** True when every edge is directed and there is no directed cycle. */
export function isDag(graph: Graph): boolean {
  if (graph.edges.some((e) => e[2] !== '-->')) return false;
  return topologicalOrder(graph) !== undefined;
}

/** Kahn's algorithm over the directed edges; undefined when they contain a cycle. */
export function topologicalOrder(graph: Graph): number[] | undefined {
  const n = graph.nodes.length;
  const indeg = new Array<number>(n).fill(0);
  const children: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b, mark] of graph.edges) {
    if (mark !== '-->') continue;
    children[a]?.push(b);
    indeg[b] = (indeg[b] as number) + 1;
  }
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  const order: number[] = [];
  while (queue.length > 0) {
    const v = queue.shift() as number;
    order.push(v);
    for (const c of children[v] as number[]) {
      indeg[c] = (indeg[c] as number) - 1;
      if (indeg[c] === 0) queue.push(c);
    }
  }
  return order.length === n ? order : undefined;
}

/** Parents of each node (directed edges only), as sorted index lists. */
export function parentsOf(graph: Graph): number[][] {
  const parents: number[][] = Array.from({ length: graph.nodes.length }, () => []);
  for (const [a, b, mark] of graph.edges) if (mark === '-->') parents[b]?.push(a);
  for (const p of parents) p.sort((x, y) => x - y);
  return parents;
}

/**
 * Modality of a latent named by the project convention `z<m>_<i>` (1-based), else undefined.
 * Nodes of other names (phenotype variables such as `age`) belong to no latent modality.
 */
export function latentModality(name: string): number | undefined {
  const m = /^z(\d+)_(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Modality of an exogenous slot named `eta<m>_<j>` (1-based), else undefined. */
export function exogenousModality(name: string): number | undefined {
  const m = /^eta(\d+)_(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** `eta<m>_<j>`: exogenous slot j of modality m (both 1-based), the counterpart of latentName. */
export function exogenousName(modality: number, index: number): string {
  return `eta${modality}_${index}`;
}

export function latentName(modality: number, index: number): string {
  return `z${modality}_${index}`;
}

/** The concatenated latent vector z = [z(1) .. z(M)], in modality order then index order. */
export interface LatentLayout {
  d: number;
  /** Column names `z<m>_<i>` (1-based), as in latents.csv and graph.json. */
  names: string[];
  /** Modality (0-based) of each component. */
  modalityOf: number[];
  /** Start offset of each modality's block in z. */
  offsets: number[];
}

/** Layout of z for the given number of latents per modality. */
export function latentLayoutOf(latentsPerModality: readonly number[]): LatentLayout {
  const names: string[] = [];
  const modalityOf: number[] = [];
  const offsets: number[] = [];
  latentsPerModality.forEach((k, m) => {
    offsets.push(names.length);
    for (let i = 0; i < k; i++) {
      names.push(latentName(m + 1, i + 1));
      modalityOf.push(m);
    }
  });
  return { d: names.length, names, modalityOf, offsets };
}
