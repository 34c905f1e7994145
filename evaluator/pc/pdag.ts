/**
 * The working graph of the PC algorithm and its output: a partially directed graph with at most
 * one edge per pair.
 *
 * Endpoint encoding (the only one used in evaluator/pc; causal-learn's lives in causal-learn.ts):
 * `mark(i, j)` is the mark at j's end of the edge between i and j -
 *   NONE (0): i and j are not adjacent (then mark(j, i) is NONE too);
 *   TAIL (1): no arrowhead at j;
 *   ARROW (2): an arrowhead at j.
 * So i --> j is mark(i, j) = ARROW, mark(j, i) = TAIL; i --- j is TAIL both ways; i <-> j is ARROW
 * both ways (only the "bidirected" collider priority creates it). Read row i as "what i points at",
 * like the cdt adjacency convention of common/graph.ts.
 */
import type { Edge, Graph } from '../../common/graph.js';

export const NONE = 0;
export const TAIL = 1;
export const ARROW = 2;
export type Mark = typeof NONE | typeof TAIL | typeof ARROW;

export class Pdag {
  readonly n: number;
  private readonly marks: Uint8Array;

  constructor(n: number, marks?: Uint8Array) {
    this.n = n;
    this.marks = marks ?? new Uint8Array(n * n);
  }

  /** The complete undirected graph, where the skeleton search starts. */
  static complete(n: number): Pdag {
    const g = new Pdag(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) g.marks[i * n + j] = TAIL;
    return g;
  }

  /** From the shared graph JSON shape; extra `meta.bidirected` pairs become <-> edges. */
  static fromGraph(graph: Graph): Pdag {
    const g = new Pdag(graph.nodes.length);
    for (const [a, b, mark] of graph.edges) {
      if (mark === '-->') g.setDirected(a, b);
      else g.setUndirected(a, b);
    }
    const bi = graph.meta?.['bidirected'];
    if (Array.isArray(bi)) for (const [a, b] of bi as [number, number][]) g.setBidirected(a, b);
    return g;
  }

  mark(i: number, j: number): Mark {
    return this.marks[i * this.n + j] as Mark;
  }

  adjacent(i: number, j: number): boolean {
    return this.marks[i * this.n + j] !== NONE;
  }

  /** i --> j */
  isDirected(i: number, j: number): boolean {
    return this.marks[i * this.n + j] === ARROW && this.marks[j * this.n + i] === TAIL;
  }

  /** i --- j */
  isUndirected(i: number, j: number): boolean {
    return this.marks[i * this.n + j] === TAIL && this.marks[j * this.n + i] === TAIL;
  }

  /** i <-> j */
  isBidirected(i: number, j: number): boolean {
    return this.marks[i * this.n + j] === ARROW && this.marks[j * this.n + i] === ARROW;
  }

  setDirected(i: number, j: number): void {
    this.marks[i * this.n + j] = ARROW;
    this.marks[j * this.n + i] = TAIL;
  }

  setUndirected(i: number, j: number): void {
    this.marks[i * this.n + j] = TAIL;
    this.marks[j * this.n + i] = TAIL;
  }

  setBidirected(i: number, j: number): void {
    this.marks[i * this.n + j] = ARROW;
    this.marks[j * this.n + i] = ARROW;
  }

  remove(i: number, j: number): void {
    this.marks[i * this.n + j] = NONE;
    this.marks[j * this.n + i] = NONE;
  }

  /** Nodes adjacent to i, ascending. */
  neighbors(i: number): number[] {
    const out: number[] = [];
    const row = i * this.n;
    for (let j = 0; j < this.n; j++) if (this.marks[row + j] !== NONE) out.push(j);
    return out;
  }

  degree(i: number): number {
    let d = 0;
    const row = i * this.n;
    for (let j = 0; j < this.n; j++) if (this.marks[row + j] !== NONE) d++;
    return d;
  }

  maxDegree(): number {
    let m = 0;
    for (let i = 0; i < this.n; i++) m = Math.max(m, this.degree(i));
    return m;
  }

  clone(): Pdag {
    return new Pdag(this.n, Uint8Array.from(this.marks));
  }

  equals(other: Pdag): boolean {
    if (other.n !== this.n) return false;
    for (let i = 0; i < this.marks.length; i++) if (this.marks[i] !== other.marks[i]) return false;
    return true;
  }

  /** Number of adjacent pairs. */
  edgeCount(): number {
    let c = 0;
    for (let i = 0; i < this.n; i++) for (let j = i + 1; j < this.n; j++) if (this.adjacent(i, j)) c++;
    return c;
  }

  /** Bidirected pairs [i, j] with i < j. */
  bidirectedPairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.n; i++)
      for (let j = i + 1; j < this.n; j++) if (this.isBidirected(i, j)) out.push([i, j]);
    return out;
  }

  /**
   * The shared graph JSON shape: pairs in ascending (min, max) order, `[i, j, "---"]` with i < j for
   * undirected edges, `[from, to, "-->"]` for directed ones. The format has no <-> mark, so
   * bidirected pairs go to `meta.bidirected` (and are absent from `edges`).
   */
  toGraph(nodes: readonly string[], meta?: Record<string, unknown>): Graph {
    const edges: Edge[] = [];
    for (let i = 0; i < this.n; i++) {
      for (let j = i + 1; j < this.n; j++) {
        if (this.isUndirected(i, j)) edges.push([i, j, '---']);
        else if (this.isDirected(i, j)) edges.push([i, j, '-->']);
        else if (this.isDirected(j, i)) edges.push([j, i, '-->']);
      }
    }
    const bi = this.bidirectedPairs();
    const allMeta = { ...(meta ?? {}), ...(bi.length > 0 ? { bidirected: bi } : {}) };
    return Object.keys(allMeta).length > 0 ? { nodes, edges, meta: allMeta } : { nodes, edges };
  }
}
