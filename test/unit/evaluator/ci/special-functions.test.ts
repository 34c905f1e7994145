import { describe, expect, it } from 'vitest';
import { chiSquareSf, erfc, gammaQ, logGamma, normalSf } from '../../../../evaluator/ci/special-functions.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('special functions', () => {
  it('erfc matches reference values to 1e-11 relative across its range', () => {
    // Reference values (mpmath), rounded to double.
    const ref: [number, number][] = [
      [0.1, 0.8875370839817152],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [2.5, 0.0004069520174449589],
      [3, 2.209049699858544e-5],
      [5, 1.537459794428035e-12],
      [10, 2.088487583762545e-45],
    ];
    for (const [x, y] of ref) expect(rel(erfc(x), y)).toBeLessThan(1e-11);
    expect(erfc(0)).toBe(1);
    expect(rel(erfc(-1), 2 - 0.15729920705028513)).toBeLessThan(1e-15);
  });

  it('normal tail: P(Z > 1.959963984540054) = 0.025', () => {
    expect(rel(normalSf(1.959963984540054), 0.025)).toBeLessThan(1e-12);
  });

  it('log Gamma and the regularised upper incomplete gamma', () => {
    expect(rel(logGamma(10), Math.log(362880))).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
    expect(rel(gammaQ(1, 2), Math.exp(-2))).toBeLessThan(1e-14);
    expect(rel(gammaQ(3, 2.5), Math.exp(-2.5) * (1 + 2.5 + 2.5 ** 2 / 2))).toBeLessThan(1e-13);
    // chi-square(2) survival is exp(-x/2).
    expect(rel(chiSquareSf(7, 2), Math.exp(-3.5))).toBeLessThan(1e-13);
    // Large shape, both branches of the algorithm.
    expect(rel(gammaQ(50, 45) + (1 - gammaQ(50, 45)), 1)).toBeLessThan(1e-15);
    expect(gammaQ(50, 60)).toBeGreaterThan(0.07);
    expect(gammaQ(50, 60)).toBeLessThan(0.1);
  });
});
