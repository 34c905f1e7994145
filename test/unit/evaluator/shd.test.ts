import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../common/errors.js';
import { toAdjacency, type Edge, type Graph } from '../../../common/graph.js';
import { fromColumns } from '../../../common/matrix.js';
import { Rng } from '../../../common/random.js';
import { matchingToRelabel, mcc } from '../../../evaluator/metrics/mcc.js';
import { shd, shdOf } from '../../../evaluator/metrics/shd.js';

const NODES = ['a', 'b', 'c', 'd'];
/** a -> b, b -> c, c --- d */
const TRUTH: Graph = {
  nodes: NODES,
  edges: [
    [0, 1, '-->'],
    [1, 2, '-->'],
    [2, 3, '---'],
  ],
};

function withEdges(edges: Edge[], nodes: readonly string[] = NODES): Graph {
  return { nodes, edges };
}

function counts(g: Graph): [number, number, number] {
  const r = shd(TRUTH, g);
  return [r.shd_directed, r.shd_cdt, r.shd_skeleton];
}

describe('shd', () => {
  it('is 0 for the same graph, whatever the order of the estimate nodes', () => {
    expect(counts(TRUTH)).toEqual([0, 0, 0]);
    // Same graph with nodes listed as d, c, b, a.
    const reordered = withEdges(
      [
        [3, 2, '-->'],
        [2, 1, '-->'],
        [0, 1, '---'],
      ],
      ['d', 'c', 'b', 'a'],
    );
    const r = shd(TRUTH, reordered);
    expect([r.shd, r.shd_cdt, r.shd_skeleton]).toEqual([0, 0, 0]);
    expect([r.missing, r.extra, r.reversed, r.misoriented]).toEqual([[], [], [], []]);
  });

  it('counts a reversal 1 (directed), 2 (cdt), 0 (skeleton)', () => {
    const g = withEdges([
      [1, 0, '-->'],
      [1, 2, '-->'],
      [2, 3, '---'],
    ]);
    expect(counts(g)).toEqual([1, 2, 0]);
    expect(shd(TRUTH, g).reversed).toEqual([{ truth: 'a --> b', estimate: 'b --> a' }]);
  });

  it('counts a directed edge estimated as undirected 1, 1, 0, and the converse too', () => {
    const undirected = withEdges([
      [0, 1, '---'],
      [1, 2, '-->'],
      [2, 3, '---'],
    ]);
    expect(counts(undirected)).toEqual([1, 1, 0]);
    expect(shd(TRUTH, undirected).misoriented).toEqual([{ truth: 'a --> b', estimate: 'a --- b' }]);
    const directed = withEdges([
      [0, 1, '-->'],
      [1, 2, '-->'],
      [3, 2, '-->'],
    ]);
    expect(counts(directed)).toEqual([1, 1, 0]);
    expect(shd(TRUTH, directed).misoriented).toEqual([{ truth: 'c --- d', estimate: 'd --> c' }]);
  });

  it('counts missing and extra edges, an undirected one twice under cdt', () => {
    const missingDirected = withEdges([
      [0, 1, '-->'],
      [2, 3, '---'],
    ]);
    expect(counts(missingDirected)).toEqual([1, 1, 1]);
    expect(shd(TRUTH, missingDirected).missing).toEqual(['b --> c']);
    const missingUndirected = withEdges([
      [0, 1, '-->'],
      [1, 2, '-->'],
    ]);
    expect(counts(missingUndirected)).toEqual([1, 2, 1]);
    expect(shd(TRUTH, missingUndirected).missing).toEqual(['c --- d']);
    const extra = withEdges([...TRUTH.edges, [3, 0, '-->']]);
    expect(counts(extra)).toEqual([1, 1, 1]);
    expect(shd(TRUTH, extra).extra).toEqual(['d --> a']);
  });

  it('adds up over several differences', () => {
    // reversed a-b, missing b->c, c---d kept, extra a---c.
    const g = withEdges([
      [1, 0, '-->'],
      [2, 3, '---'],
      [0, 2, '---'],
    ]);
    const r = shd(TRUTH, g);
    expect([r.shd, r.shd_cdt, r.shd_skeleton]).toEqual([3, 2 + 1 + 2, 2]);
    expect([r.n_nodes, r.n_edges_truth, r.n_edges_estimate]).toEqual([4, 3, 3]);
    expect(shdOf(TRUTH, g, 'cdt')).toBe(5);
    expect(shdOf(TRUTH, g, 'skeleton')).toBe(2);
    expect(shdOf(TRUTH, g, 'directed')).toBe(3);
  });

  it('cdt mode equals sum |A_true - A_est| on random graphs', () => {
    const rng = new Rng('shd-random');
    const nodes = Array.from({ length: 7 }, (_, i) => `v${i}`);
    const randomGraph = (): Graph => {
      const edges: Edge[] = [];
      for (let i = 0; i < 7; i++) {
        for (let j = i + 1; j < 7; j++) {
          const u = rng.int(4);
          if (u === 1) edges.push([i, j, '-->']);
          if (u === 2) edges.push([j, i, '-->']);
          if (u === 3) edges.push([i, j, '---']);
        }
      }
      return { nodes, edges };
    };
    for (let trial = 0; trial < 20; trial++) {
      const t = randomGraph();
      const e = randomGraph();
      const at = toAdjacency(t);
      const ae = toAdjacency(e);
      let expected = 0;
      let skeleton = 0;
      for (let i = 0; i < 7; i++) {
        for (let j = 0; j < 7; j++) {
          expected += Math.abs(at[i]![j]! - ae[i]![j]!);
          if (i < j) skeleton += Number((at[i]![j]! || at[j]![i]!) !== (ae[i]![j]! || ae[j]![i]!));
        }
      }
      const r = shd(t, e);
      expect(r.shd_cdt).toBe(expected);
      expect(r.shd_skeleton).toBe(skeleton);
      expect(r.shd_directed).toBe(
        r.missing.length + r.extra.length + r.reversed.length + r.misoriented.length,
      );
    }
  });

  it('rejects graphs over different node names, listing them', () => {
    const g = withEdges([], ['a', 'b', 'c', 'x']);
    expect(() => shd(TRUTH, g, { labels: { truth: 'T.json', estimate: 'E.json' } })).toThrow(
      /only in E\.json: x; only in T\.json: d/,
    );
    expect(() => shd(TRUTH, withEdges([], ['a', 'b', 'c']))).toThrow(CrlError);
  });

  it('relabels estimate nodes first, and rejects relabellings that collide', () => {
    const est: Graph = {
      nodes: ['e1', 'e2', 'e3', 'd'],
      edges: [
        [2, 0, '-->'],
        [0, 1, '-->'],
        [1, 3, '---'],
      ],
    };
    expect(shd(TRUTH, est, { relabel: { e3: 'a', e1: 'b', e2: 'c', unused: 'zz' } }).shd).toBe(0);
    expect(() => shd(TRUTH, est, { relabel: { e3: 'a', e1: 'b', e2: 'd' } })).toThrow(
      /"e2" and "d" both become "d"|"d" and "e2" both become "d"/,
    );
  });

  it('relabels by an MCC matching, so permuted estimated latents score 0', () => {
    const rng = new Rng('shd-mcc');
    const names = ['z1_1', 'z1_2', 'z2_1'];
    const cols = names.map(() => Float64Array.from({ length: 500 }, () => rng.normal()));
    const truthLatents = fromColumns(names, cols);
    // The estimate calls truth z1_1 "z2_1", z1_2 "z1_1" and z2_1 "z1_2" (and rescales them).
    const estLatents = fromColumns(names, [
      Float64Array.from(cols[1]!, (v) => -2 * v),
      Float64Array.from(cols[2]!, (v) => v + 3),
      cols[0]!,
    ]);
    const truthGraph: Graph = {
      nodes: names,
      edges: [
        [0, 2, '-->'],
        [1, 2, '-->'],
      ],
    };
    // The same graph in the estimate's names: z2_1 -> z1_2, z1_1 -> z1_2.
    const estGraph: Graph = {
      nodes: names,
      edges: [
        [2, 1, '-->'],
        [0, 1, '-->'],
      ],
    };
    expect(shd(truthGraph, estGraph).shd).toBeGreaterThan(0);
    const relabel = matchingToRelabel(mcc(truthLatents, estLatents, { groups: 'none' }).matching);
    expect(relabel).toEqual({ z2_1: 'z1_1', z1_1: 'z1_2', z1_2: 'z2_1' });
    expect(shd(truthGraph, estGraph, { relabel }).shd_cdt).toBe(0);
  });
});
