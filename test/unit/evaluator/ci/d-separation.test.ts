import { describe, expect, it } from 'vitest';
import { DSeparationTest } from '../../../../evaluator/ci/d-separation.js';
import { graphOf } from '../pc/helpers.js';

const v = ['a', 'b', 'c', 'd', 'e'];
const sep = (spec: string, x: number, y: number, s: number[]): boolean =>
  new DSeparationTest(graphOf(v, spec)).test(x, y, s) === 1;

describe('d-separation oracle', () => {
  it('chain and fork: blocked by the middle node only', () => {
    for (const spec of ['a->b, b->c', 'b->a, b->c', 'c->b, b->a']) {
      expect(sep(spec, 0, 2, [])).toBe(false);
      expect(sep(spec, 0, 2, [1])).toBe(true);
    }
  });

  it('collider: blocked unless the collider or a descendant is conditioned on', () => {
    const spec = 'a->b, c->b, b->d';
    expect(sep(spec, 0, 2, [])).toBe(true);
    expect(sep(spec, 0, 2, [1])).toBe(false);
    expect(sep(spec, 0, 2, [3])).toBe(false);
  });

  it('longer paths: the M-structure and a blocked back door', () => {
    // a -> c <- b, a -> d, b -> e: d and e are separated marginally, connected given c.
    const m = 'a->c, b->c, a->d, b->e';
    expect(sep(m, 3, 4, [])).toBe(true);
    expect(sep(m, 3, 4, [2])).toBe(false);
    expect(sep(m, 3, 4, [2, 0])).toBe(true);
  });

  it('refuses a graph that is not a DAG', () => {
    expect(() => new DSeparationTest(graphOf(v, 'a->b, b->a'))).toThrow(/DAG/);
    expect(() => new DSeparationTest(graphOf(v, 'a--b'))).toThrow(/DAG/);
  });
});
