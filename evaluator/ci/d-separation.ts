/**
 * d-separation in a DAG, and a CI "test" that answers from it: the oracle under which PC must
 * return exactly the true CPDAG, and a way to ask what a hypothesised graph implies.
 */
import { invalidArgument } from '../../common/errors.js';
import { isDag, type Graph } from '../../common/graph.js';
import { CiTest } from './ci-test.js';

/**
 * True when x and y are d-separated by s in the DAG given as parent and child lists. Reachability
 * over (node, direction) states (Koller & Friedman's "Bayes ball"): a trail may pass a collider
 * only if it is in s or has a descendant in s, and a non-collider only if it is not in s.
 */
export function dSeparated(
  parents: readonly (readonly number[])[],
  children: readonly (readonly number[])[],
  x: number,
  y: number,
  s: readonly number[],
): boolean {
  const n = parents.length;
  const inS = new Uint8Array(n);
  for (const v of s) inS[v] = 1;
  if (inS[x] || inS[y]) return true;
  // Ancestors of S (S included): the colliders a trail may pass through.
  const ancestorOfS = new Uint8Array(n);
  const stack = [...s];
  while (stack.length > 0) {
    const v = stack.pop() as number;
    if (ancestorOfS[v]) continue;
    ancestorOfS[v] = 1;
    for (const u of parents[v] as number[]) if (!ancestorOfS[u]) stack.push(u);
  }
  // visited[2v] : reached v from a child (moving up); visited[2v+1]: from a parent (moving down).
  const visited = new Uint8Array(2 * n);
  const queue: number[] = [2 * x];
  while (queue.length > 0) {
    const state = queue.pop() as number;
    if (visited[state]) continue;
    visited[state] = 1;
    const v = state >> 1;
    const down = (state & 1) === 1;
    if (v === y) return false;
    if (!down) {
      if (inS[v]) continue;
      for (const u of parents[v] as number[]) queue.push(2 * u);
      for (const c of children[v] as number[]) queue.push(2 * c + 1);
    } else {
      if (!inS[v]) for (const c of children[v] as number[]) queue.push(2 * c + 1);
      if (ancestorOfS[v]) for (const u of parents[v] as number[]) queue.push(2 * u);
    }
  }
  return true;
}

/**
 * CI oracle over a known DAG: p = 1 when d-separated, 0 otherwise, so any alpha in (0, 1) gives
 * exactly the independencies the DAG implies.
 */
export class DSeparationTest extends CiTest {
  private readonly parents: number[][];
  private readonly children: number[][];

  constructor(dag: Graph) {
    if (!isDag(dag)) throw invalidArgument('the d-separation oracle needs a DAG (directed edges, no cycle)');
    super(dag.nodes);
    const n = dag.nodes.length;
    this.parents = Array.from({ length: n }, () => []);
    this.children = Array.from({ length: n }, () => []);
    for (const [a, b] of dag.edges) {
      this.parents[b]?.push(a);
      this.children[a]?.push(b);
    }
  }

  protected pValue(x: number, y: number, s: readonly number[]): number {
    return dSeparated(this.parents, this.children, x, y, s) ? 1 : 0;
  }
}
