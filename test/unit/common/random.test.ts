import { describe, expect, it } from 'vitest';
import { Rng } from '../../../common/random.js';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds and forks', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.uniform()
      )(new Rng(7)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.uniform()
      )(new Rng(7)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.uniform()
      )(new Rng(8)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Rng(7).fork('x').uniform()).not.toBe(new Rng(7).fork('y').uniform());
  });

  it('draws standard normals with the right moments', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
      s4 += x ** 4;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    expect(Math.abs(s4 / n - 3)).toBeLessThan(0.1);
  });

  it('draws uniform integers covering the range evenly', () => {
    const r = new Rng(3);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it('restores its state exactly, including a pending normal', () => {
    const r = new Rng(11);
    r.normal();
    const state = r.getState();
    const next = [r.normal(), r.uniform(), r.normal()];
    const s = new Rng(0);
    s.setState(state);
    expect([s.normal(), s.uniform(), s.normal()]).toEqual(next);
  });

  it('shuffles into a permutation', () => {
    const p = new Rng(5).permutation(50);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
