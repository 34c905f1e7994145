import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../common/errors.js';
import { choleskyInPlace, choleskySolveInPlace } from '../../../common/linalg.js';
import { fromColumns } from '../../../common/matrix.js';
import { Rng } from '../../../common/random.js';
import { fitKernelRidge, predictKernelRidge, rbfKernel } from '../../../evaluator/metrics/kernel-ridge.js';
import { kernelRidgeR2 } from '../../../evaluator/metrics/r2.js';

function normals(rng: Rng, n: number, p: number): Float64Array[] {
  return Array.from({ length: p }, () => Float64Array.from({ length: n }, () => rng.normal()));
}

function names(prefix: string, p: number): string[] {
  return Array.from({ length: p }, (_, j) => `${prefix}${j}`);
}

/** Smooth, strictly increasing (hence invertible) per-column maps. */
const SMOOTH = [
  (v: number) => Math.tanh(v) + 0.3 * v,
  (v: number) => Math.exp(v / 2),
  (v: number) => 5 - 2 * v + 0.1 * v ** 3,
];

describe('kernel ridge', () => {
  it('matches a hand-worked two-point fit', () => {
    // K = [[1, c], [c, 1]] with c = exp(-1); (K + I) coef = [1, -1] gives coef = [1, -1] / (2 - c).
    const c = Math.exp(-1);
    const model = fitKernelRidge(Float64Array.from([0, 1]), 2, 1, Float64Array.from([1, -1]), 1, {
      gamma: 1,
      alpha: 1,
    });
    expect(model.coef[0]).toBeCloseTo(1 / (2 - c), 14);
    expect(model.coef[1]).toBeCloseTo(-1 / (2 - c), 14);
    const pred = predictKernelRidge(model, Float64Array.from([0, 0.5]), 2);
    expect(pred[0]).toBeCloseTo((1 - c) / (2 - c), 14);
    expect(pred[1]).toBeCloseTo(0, 14); // the midpoint is equidistant from +1 and -1
  });

  it('fits the same coefficients as a plain Cholesky solve', () => {
    const rng = new Rng('krr-chol');
    const n = 37; // not a multiple of the four-row unrolling
    const x = Float64Array.from({ length: n * 2 }, () => rng.normal());
    const y = Float64Array.from({ length: n * 3 }, () => rng.normal());
    const model = fitKernelRidge(x, n, 2, y, 3, { gamma: 0.4, alpha: 0.1 });
    const k = rbfKernel(x, n, x, n, 2, 0.4);
    for (let i = 0; i < n; i++) k[i * n + i]! += 0.1;
    expect(choleskyInPlace(k, n)).toBe(true);
    const expected = Float64Array.from(y);
    choleskySolveInPlace(k, n, expected, 3);
    for (let t = 0; t < n * 3; t++) expect(model.coef[t]).toBeCloseTo(expected[t]!, 10);
  });

  it('computes the same symmetric and cross kernels', () => {
    const rng = new Rng('rbf');
    const x = Float64Array.from({ length: 30 }, () => rng.normal());
    const sym = rbfKernel(x, 10, x, 10, 3, 0.7);
    const cross = rbfKernel(x, 10, Float64Array.from(x), 10, 3, 0.7);
    for (let k = 0; k < 100; k++) expect(sym[k]).toBeCloseTo(cross[k]!, 15);
    const d2 = (x[0]! - x[3]!) ** 2 + (x[1]! - x[4]!) ** 2 + (x[2]! - x[5]!) ** 2;
    expect(sym[1]).toBeCloseTo(Math.exp(-0.7 * d2), 15);
  });

  it('interpolates its training targets as alpha -> 0', () => {
    const rng = new Rng('interp');
    const x = Float64Array.from({ length: 40 }, () => rng.normal());
    const y = Float64Array.from({ length: 20 }, () => rng.normal());
    const model = fitKernelRidge(x, 20, 2, y, 1, { gamma: 0.5, alpha: 1e-9 });
    const pred = predictKernelRidge(model, x, 20);
    for (let i = 0; i < 20; i++) expect(pred[i]).toBeCloseTo(y[i]!, 4);
  });
});

describe('kernelRidgeR2', () => {
  const rng = new Rng('r2');
  const n = 2500;
  const truthCols = normals(rng, n, 3);
  const truth = fromColumns(names('t', 3), truthCols);
  const smooth = fromColumns(
    names('e', 3),
    // Permuted as well: R² does not care which input carries which factor.
    [2, 0, 1].map((src, j) => Float64Array.from(truthCols[src]!, SMOOTH[j]!)),
  );
  const noise = fromColumns(names('e', 6), normals(rng, n, 6));

  it('is near 1 held out for a smooth invertible per-column transform', () => {
    const r = kernelRidgeR2(truth, smooth, { maxTrain: 1000 });
    expect(r.protocol).toBe('heldout');
    expect(r.r2).toBeGreaterThan(0.95);
    for (const v of Object.values(r.per_column)) expect(v).toBeGreaterThan(0.9);
    expect(r.gamma).toBeCloseTo(1 / 3, 15);
    expect(r.alpha).toBe(1);
    expect([r.n_rows, r.n_train, r.n_test, r.test_fraction, r.seed]).toEqual([n, 1000, 500, 0.2, 0]);
  });

  it('is near 0 held out for independent noise, and in-sample overfits it', () => {
    const heldout = kernelRidgeR2(truth, noise, { maxTrain: 1000 });
    const insample = kernelRidgeR2(truth, noise, { maxTrain: 1000, protocol: 'insample' });
    expect(Math.abs(heldout.r2)).toBeLessThan(0.1);
    expect(insample.r2 - heldout.r2).toBeGreaterThan(0.15);
    expect([insample.n_train, insample.n_test, insample.test_fraction]).toEqual([1000, 1000, null]);
  });

  it('caps training rows at maxTrain (default 2,000) and scores every held-out row', () => {
    const r = kernelRidgeR2(truth, smooth, { testFraction: 0.1 });
    expect([r.max_train, r.n_train, r.n_test]).toEqual([2000, 2000, 250]);
    const few = { rows: 301, t: fromColumns(['t'], [truthCols[0]!.slice(0, 301)]) };
    const small = kernelRidgeR2(few.t, fromColumns(['e'], [truthCols[1]!.slice(0, 301)]), {
      testFraction: 0.5,
    });
    expect([small.n_rows, small.n_train, small.n_test]).toEqual([301, 150, 151]);
  });

  it('is deterministic in the seed, and the seed moves the split', () => {
    const a = kernelRidgeR2(truth, noise, { maxTrain: 300, seed: 7 });
    const b = kernelRidgeR2(truth, noise, { maxTrain: 300, seed: 7 });
    const c = kernelRidgeR2(truth, noise, { maxTrain: 300, seed: 8 });
    expect(b).toEqual(a);
    expect(c.r2).not.toBe(a.r2);
  });

  it('does not depend on the scale of inputs or targets (both are standardised)', () => {
    const rescale = (t: typeof truth, k: number) =>
      fromColumns(
        t.columns,
        t.columns.map((_, j) =>
          Float64Array.from({ length: n }, (_, i) => 1000 + k * t.data[i * t.columns.length + j]!),
        ),
      );
    const a = kernelRidgeR2(truth, smooth, { maxTrain: 400 });
    const b = kernelRidgeR2(rescale(truth, 1e-3), rescale(smooth, 50), { maxTrain: 400 });
    expect(b.r2).toBeCloseTo(a.r2, 8);
  });

  it('scores z<m>_<i> blocks separately', () => {
    const t = fromColumns(['z1_1', 'z1_2', 'z2_1', 'z2_2'], truthCols.slice(0, 2).concat(normals(rng, n, 2)));
    const e = fromColumns(
      ['z1_1', 'z1_2', 'z2_1', 'z2_2'],
      [
        Float64Array.from(truthCols[1]!, SMOOTH[0]!),
        Float64Array.from(truthCols[0]!, SMOOTH[1]!),
        ...normals(rng, n, 2),
      ],
    );
    const r = kernelRidgeR2(t, e, { maxTrain: 600 });
    expect(r.per_modality!['1']!.r2).toBeGreaterThan(0.9);
    expect(Math.abs(r.per_modality!['2']!.r2)).toBeLessThan(0.1);
    expect(r.per_modality!['1']!.gamma).toBeCloseTo(0.5, 15);
    expect(r.per_modality!['1']!.n_inputs).toBe(2);
  });

  it('rejects bad inputs and options with a clear error', () => {
    const short = fromColumns(['x'], [Float64Array.from([1, 2, 3])]);
    expect(() => kernelRidgeR2(truth, short, { labels: { truth: 'T.csv', estimate: 'E.csv' } })).toThrow(
      /T\.csv has 2500 rows, E\.csv has 3/,
    );
    const flat = fromColumns(['c', 'd'], [new Float64Array(n).fill(2), truthCols[0]!]);
    expect(() => kernelRidgeR2(flat, smooth, { labels: { truth: 'T.csv' } })).toThrow(
      /T\.csv, column "c": column is constant/,
    );
    expect(() => kernelRidgeR2(truth, smooth, { alpha: 0 })).toThrow(/alpha: must be > 0/);
    expect(() => kernelRidgeR2(truth, smooth, { gamma: -1 })).toThrow(CrlError);
    expect(() => kernelRidgeR2(truth, smooth, { maxTrain: 1 })).toThrow(/maxTrain/);
    expect(() => kernelRidgeR2(truth, smooth, { testFraction: 1 })).toThrow(/testFraction/);
    const tiny = fromColumns(['x'], [Float64Array.from([1, 2, 3, 4])]);
    expect(() => kernelRidgeR2(tiny, tiny)).toThrow(/at least 2 training and 2 test rows/);
  });
});
