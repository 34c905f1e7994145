import { describe, expect, it } from 'vitest';
import { fromCausalLearnMatrix, toCausalLearnMatrix } from '../../../../evaluator/pc/causal-learn.js';
import { Pdag } from '../../../../evaluator/pc/pdag.js';
import { graphOf } from './helpers.js';

describe('Pdag and the causal-learn matrix converter', () => {
  it('encodes i --> j as mark(i, j) = ARROW, mark(j, i) = TAIL', () => {
    const g = Pdag.fromGraph(graphOf(['a', 'b', 'c'], 'a->b, b--c'));
    expect(g.isDirected(0, 1)).toBe(true);
    expect(g.isDirected(1, 0)).toBe(false);
    expect(g.isUndirected(1, 2) && g.isUndirected(2, 1)).toBe(true);
    expect(g.neighbors(1)).toEqual([0, 2]);
    expect(g.toGraph(['a', 'b', 'c']).edges).toEqual([
      [0, 1, '-->'],
      [1, 2, '---'],
    ]);
  });

  it("converts to causal-learn's matrix: graph[i, j] = -1 and graph[j, i] = 1 for i --> j", () => {
    const g = Pdag.fromGraph(graphOf(['a', 'b', 'c', 'd'], 'a->b, b--c'));
    g.setBidirected(2, 3);
    expect(Array.from(toCausalLearnMatrix(g))).toEqual(
      [
        [0, -1, 0, 0],
        [1, 0, -1, 0],
        [0, -1, 0, 1],
        [0, 0, 1, 0],
      ].flat(),
    );
    const rows = [0, 1, 2, 3].map((i) => Array.from(toCausalLearnMatrix(g).slice(i * 4, i * 4 + 4)));
    expect(fromCausalLearnMatrix(rows).equals(g)).toBe(true);
  });
});
