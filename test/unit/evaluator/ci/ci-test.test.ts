import { describe, expect, it } from 'vitest';
import { CiTestError } from '../../../../evaluator/ci/ci-test.js';
import { ScriptedTest } from '../pc/helpers.js';

describe('CI test base', () => {
  it('hands subclasses canonical queries and caches them', () => {
    const seen: string[] = [];
    const t = new ScriptedTest(['a', 'b', 'c', 'd'], (x, y, s) => {
      seen.push(`${x},${y}|${s.join('.')}`);
      return 0.5;
    });
    t.test(3, 0, [2, 1]);
    t.test(0, 3, [1, 2]);
    t.test(3, 0, [1, 2, 1]);
    expect(seen).toEqual(['0,3|1.2']);
    expect(t.testsRun).toBe(1);
    expect(t.describe(0, 3, [1, 2])).toBe('a _||_ d | b, c');
  });

  it('turns a NaN p-value into an error naming the query, never a silent decision', () => {
    const t = new ScriptedTest(['a', 'b', 'c'], () => Number.NaN);
    let err: unknown;
    try {
      t.test(0, 1, [2]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CiTestError);
    expect((err as CiTestError).reason).toBe('NOT_A_NUMBER');
    expect((err as Error).message).toContain('a _||_ b | c');
  });

  it('rejects malformed queries', () => {
    const t = new ScriptedTest(['a', 'b', 'c'], () => 0.5);
    for (const [x, y, s] of [
      [0, 0, []],
      [0, 3, []],
      [0, 1, [1]],
      [0, 1.5, []],
    ] as [number, number, number[]][]) {
      expect(() => t.test(x, y, s)).toThrow(/invalid CI query/);
    }
  });
});
