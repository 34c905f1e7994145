import { describe, expect, it } from 'vitest';
import {
  formatGraph,
  fromAdjacency,
  isDag,
  latentModality,
  parentsOf,
  parseGraph,
  toAdjacency,
  topologicalOrder,
} from '../../../common/graph.js';

describe('graph JSON format', () => {
  const g = parseGraph({
    nodes: ['a', 'b', 'c'],
    edges: [
      [0, 1, '-->'],
      [1, 2, '---'],
    ],
    source: 'pc',
  });

  it('round-trips through its text form, keeping extra fields', () => {
    expect(parseGraph(JSON.parse(formatGraph(g)))).toEqual(g);
    expect(g.meta).toEqual({ source: 'pc' });
  });

  it('converts to and from the cdt adjacency convention', () => {
    const a = toAdjacency(g);
    expect(a.map((r) => Array.from(r))).toEqual([
      [0, 1, 0],
      [0, 0, 1],
      [0, 1, 0],
    ]);
    expect(fromAdjacency(g.nodes, a).edges).toEqual(g.edges);
  });

  it('detects DAGs and orders them topologically', () => {
    expect(isDag(g)).toBe(false); // has an undirected edge
    const dag = parseGraph({
      nodes: ['a', 'b', 'c'],
      edges: [
        [2, 0, '-->'],
        [0, 1, '-->'],
      ],
    });
    expect(isDag(dag)).toBe(true);
    expect(topologicalOrder(dag)).toEqual([2, 0, 1]);
    expect(parentsOf(dag)).toEqual([[2], [0], []]);
    const cyc = parseGraph({ nodes: ['a', 'b'], edges: [[0, 1, '-->']] });
    expect(isDag(cyc)).toBe(true);
    const cycle = {
      nodes: ['a', 'b', 'c'],
      edges: [
        [0, 1, '-->'],
        [1, 2, '-->'],
        [2, 0, '-->'],
      ] as const,
    };
    expect(isDag(cycle)).toBe(false);
  });

  it.each([
    [{ nodes: ['a'], edges: [[0, 1, '-->']] }, /edges\[0\].*not in 0..0/],
    [{ nodes: ['a', 'b'], edges: [[0, 1, '<--']] }, /edge mark/],
    [{ nodes: ['a', 'b'], edges: [[0, 0, '-->']] }, /self-loop/],
    [
      {
        nodes: ['a', 'b'],
        edges: [
          [0, 1, '-->'],
          [1, 0, '---'],
        ],
      },
      /second edge/,
    ],
    [{ nodes: ['a', 'a'], edges: [] }, /duplicate node/],
    [{ nodes: 'a', edges: [] }, /"nodes" must be/],
    [[1, 2], /JSON object/],
  ])('rejects malformed graph %#', (raw, message) => {
    expect(() => parseGraph(raw, 'g.json')).toThrow(message);
  });

  it('parses latent names z<m>_<i>', () => {
    expect(latentModality('z3_12')).toBe(3);
    expect(latentModality('age')).toBeUndefined();
  });
});
