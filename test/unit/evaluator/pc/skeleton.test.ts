import { describe, expect, it } from 'vitest';
import { discoverSkeleton } from '../../../../evaluator/pc/skeleton.js';
import { names, ScriptedTest } from './helpers.js';

const base = { alpha: 0.05, stable: true, maxK: Number.POSITIVE_INFINITY };

describe('skeleton search', () => {
  // x1 _||_ x2 given {x3} and given {x4}; everything else dependent.
  const twoSepsets = (): ScriptedTest =>
    new ScriptedTest(names(4), (x, y, s) => (x === 0 && y === 1 && s.length === 1 ? 0.5 : 0));

  it('stable: keeps testing every subset at the depth and records the union of separating sets', () => {
    const { graph, sepsets } = discoverSkeleton(twoSepsets(), base);
    expect(graph.adjacent(0, 1)).toBe(false);
    expect(sepsets.get(0, 1)).toEqual([2, 3]);
  });

  it('original: removes the edge at the first separating set found', () => {
    const { graph, sepsets } = discoverSkeleton(twoSepsets(), { ...base, stable: false });
    expect(graph.adjacent(0, 1)).toBe(false);
    expect(sepsets.get(0, 1)).toEqual([2]);
  });

  it('independence is p > alpha, strictly', () => {
    const atAlpha = new ScriptedTest(names(2), () => 0.05);
    expect(discoverSkeleton(atAlpha, base).graph.adjacent(0, 1)).toBe(true);
    const above = new ScriptedTest(names(2), () => 0.0500001);
    expect(discoverSkeleton(above, base).graph.adjacent(0, 1)).toBe(false);
  });

  it('maxK bounds the conditioning-set size', () => {
    const test = twoSepsets();
    const { graph, depth } = discoverSkeleton(test, { ...base, maxK: 0 });
    expect(graph.adjacent(0, 1)).toBe(true);
    expect(depth).toBe(0);
    expect(test.testsRun).toBe(6);
  });

  it('stable neighbour sets are frozen within a depth; the original search sees removals at once', () => {
    // x1 _||_ x4 marginally; x1 _||_ x5 | x2; x4 _||_ x5 | x1 (x1 is adjacent to x5 only).
    const t = (): ScriptedTest =>
      new ScriptedTest(names(5), (x, y, s) => {
        const key = `${x},${y}|${s.join('.')}`;
        return key === '0,3|' || key === '0,4|1' || key === '3,4|0' ? 0.9 : 0;
      });
    // Stable: x1 stays a neighbour of x5 for all of depth 1, so x4 - x5 is separated by {x1}.
    expect(discoverSkeleton(t(), base).graph.adjacent(3, 4)).toBe(false);
    // Original: x1 - x5 is gone by x5's turn, and with it the only separating set of x4 - x5.
    expect(discoverSkeleton(t(), { ...base, stable: false }).graph.adjacent(3, 4)).toBe(true);
  });

  it('counts each distinct test once (the cache answers both endpoints)', () => {
    const test = new ScriptedTest(names(5), () => 0);
    discoverSkeleton(test, base);
    // Complete graph on 5 nodes, nothing removed: depths 0..3, C(5,2) pairs x C(3,d) sets each.
    expect(test.testsRun).toBe(10 * (1 + 3 + 3 + 1));
  });
});
