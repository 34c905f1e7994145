/**
 * Structural Hamming distance between a true and an estimated graph over the same node names
 * (paper, appendix D.4), in the three conventions found in the literature, since published SHDs
 * are not comparable without knowing which one was used:
 *
 * - `directed`: per unordered pair, the states none, i->j, j->i and i---j; any difference counts
 *   1. A reversal is one edit (causal-learn's SHD and the count this project reports as `shd`).
 * - `cdt`: sum |A_true - A_est| over cdt adjacency matrices (cdt.metrics.SHD with
 *   double_for_anticausal=True): a reversal counts 2, a missing undirected edge 2, a directed
 *   edge estimated as undirected 1.
 * - `skeleton`: per unordered pair, adjacent or not, ignoring marks.
 *
 * Estimated latents are only identified up to permutation, so an estimated graph's latent nodes
 * can first be renamed by the MCC matching (`relabel`, estimate name -> truth name).
 */
import { invalidArgument } from '../../common/errors.js';
import type { Graph } from '../../common/graph.js';

export type ShdMode = 'directed' | 'cdt' | 'skeleton';

export interface ShdOptions {
  /**
   * Renames estimate nodes before alignment (estimate name -> truth name), e.g. from
   * `matchingToRelabel(mcc(...).matching)`. Nodes it does not mention keep their names; keys
   * that are not estimate nodes are ignored, since a matching may cover latents the graph omits.
   */
  relabel?: Readonly<Record<string, string>>;
  /** Input names (typically file paths) for error messages. */
  labels?: { truth?: string; estimate?: string };
}

/** An edge present in both graphs with different marks, each written as "a --> b" / "a --- b". */
export interface EdgeDifference {
  readonly truth: string;
  readonly estimate: string;
}

export interface ShdResult {
  /** The directed count (a reversal counts 1); the same as `shd_directed`. */
  readonly shd: number;
  readonly shd_directed: number;
  readonly shd_cdt: number;
  readonly shd_skeleton: number;
  readonly n_nodes: number;
  readonly n_edges_truth: number;
  readonly n_edges_estimate: number;
  /** Truth edges whose endpoints are not adjacent in the estimate. */
  readonly missing: readonly string[];
  /** Estimate edges (after relabelling) whose endpoints are not adjacent in the truth. */
  readonly extra: readonly string[];
  /** Directed in both graphs, in opposite directions. */
  readonly reversed: readonly EdgeDifference[];
  /** Adjacent in both, directed in one and undirected in the other. */
  readonly misoriented: readonly EdgeDifference[];
}

/** Pair state for i < j in truth node order. */
const NONE = 0;
const FORWARD = 1; // i -> j
const BACKWARD = 2; // j -> i
const UNDIRECTED = 3;

/**
 * SHD in all three conventions, with the differing edges listed by node name. Estimate nodes are
 * matched to truth nodes by name (after `options.relabel`).
 *
 * @throws CrlError (INVALID_ARGUMENT) when, after relabelling, the node names differ from the
 *   truth's (listing the names only in one graph) or two estimate nodes share a name
 */
export function shd(truth: Graph, estimate: Graph, options: ShdOptions = {}): ShdResult {
  const toTruth = alignNodes(truth, estimate, options);
  const n = truth.nodes.length;
  const t = pairStates(truth, n, (i) => i);
  const e = pairStates(estimate, n, (i) => toTruth[i] as number);

  let directed = 0;
  let cdt = 0;
  let skeleton = 0;
  const missing: string[] = [];
  const extra: string[] = [];
  const reversed: EdgeDifference[] = [];
  const misoriented: EdgeDifference[] = [];
  const name = (i: number): string => truth.nodes[i] as string;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const st = t[i * n + j] as number;
      const se = e[i * n + j] as number;
      if (st === se) continue;
      directed += 1;
      // Bit 0 is A[i][j], bit 1 is A[j][i]: the cdt distance is the number of differing bits.
      cdt += popcount2(st ^ se);
      if (st === NONE) {
        skeleton += 1;
        extra.push(describe(name(i), name(j), se));
      } else if (se === NONE) {
        skeleton += 1;
        missing.push(describe(name(i), name(j), st));
      } else {
        const diff = { truth: describe(name(i), name(j), st), estimate: describe(name(i), name(j), se) };
        if (st !== UNDIRECTED && se !== UNDIRECTED) reversed.push(diff);
        else misoriented.push(diff);
      }
    }
  }
  return {
    shd: directed,
    shd_directed: directed,
    shd_cdt: cdt,
    shd_skeleton: skeleton,
    n_nodes: n,
    n_edges_truth: truth.edges.length,
    n_edges_estimate: estimate.edges.length,
    missing,
    extra,
    reversed,
    misoriented,
  };
}

/** SHD in one convention (see the module comment). */
export function shdOf(truth: Graph, estimate: Graph, mode: ShdMode, options: ShdOptions = {}): number {
  const r = shd(truth, estimate, options);
  return mode === 'directed' ? r.shd_directed : mode === 'cdt' ? r.shd_cdt : r.shd_skeleton;
}

/** Index of each estimate node among the truth nodes, after relabelling. */
function alignNodes(truth: Graph, estimate: Graph, options: ShdOptions): Int32Array {
  const relabel = options.relabel ?? {};
  const tFile = options.labels?.truth ?? 'truth graph';
  const eFile = options.labels?.estimate ?? 'estimate graph';
  const renamed = estimate.nodes.map((v) => (Object.hasOwn(relabel, v) ? (relabel[v] as string) : v));
  const seen = new Map<string, string>();
  renamed.forEach((r, k) => {
    const original = estimate.nodes[k] as string;
    const other = seen.get(r);
    if (other !== undefined) {
      throw invalidArgument(
        `estimate nodes ${JSON.stringify(other)} and ${JSON.stringify(original)} both become ${JSON.stringify(r)} after relabelling`,
        { file: options.labels?.estimate },
      );
    }
    seen.set(r, original);
  });
  const index = new Map(truth.nodes.map((v, i) => [v, i]));
  const unknown = renamed.filter((r) => !index.has(r));
  const absent = truth.nodes.filter((v) => !seen.has(v));
  if (unknown.length > 0 || absent.length > 0) {
    const parts: string[] = [];
    if (unknown.length > 0) parts.push(`only in ${eFile}: ${unknown.join(', ')}`);
    if (absent.length > 0) parts.push(`only in ${tFile}: ${absent.join(', ')}`);
    throw invalidArgument(`the graphs must have the same node names (${parts.join('; ')})`);
  }
  return Int32Array.from(renamed, (r) => index.get(r) as number);
}

/** Upper-triangle pair states (n x n, entries i < j) with nodes mapped by `at`. */
function pairStates(graph: Graph, n: number, at: (node: number) => number): Uint8Array {
  const s = new Uint8Array(n * n);
  for (const [a, b, mark] of graph.edges) {
    const i = at(a);
    const j = at(b);
    const [lo, hi] = i < j ? [i, j] : [j, i];
    s[lo * n + hi] = mark === '---' ? UNDIRECTED : i < j ? FORWARD : BACKWARD;
  }
  return s;
}

function describe(a: string, b: string, state: number): string {
  if (state === FORWARD) return `${a} --> ${b}`;
  if (state === BACKWARD) return `${b} --> ${a}`;
  return `${a} --- ${b}`;
}

function popcount2(x: number): number {
  return (x & 1) + ((x >> 1) & 1);
}
