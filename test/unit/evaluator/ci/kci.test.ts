import { describe, expect, it } from 'vitest';
import { matmul, symmetricEigen } from '../../../../common/linalg.js';
import { fromColumns, type Table } from '../../../../common/matrix.js';
import { Rng } from '../../../../common/random.js';
import { FisherZTest } from '../../../../evaluator/ci/fisher-z.js';
import { hsicWidth, KciTest, kciWidth } from '../../../../evaluator/ci/kci.js';
import { centerInPlace, congruence, gaussianKernel, spdInverse } from '../../../../evaluator/ci/kernel.js';
import { gammaSf } from '../../../../evaluator/ci/special-functions.js';
import { pc } from '../../../../evaluator/pc/pc.js';
import { edgeList } from '../pc/cpdag.js';
import { graphOf } from '../pc/helpers.js';

const v = ['x', 'y', 'z'];

/** n rows of (x, y, z) from a nonlinear, non-Gaussian (uniform-noise) model. */
function sample(
  n: number,
  seed: string,
  row: (u: () => number, e: () => number) => [number, number, number],
): Table {
  const rng = new Rng(seed);
  const u = (): number => rng.between(-2, 2);
  const e = (): number => rng.between(-0.5, 0.5);
  const cols = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) row(u, e).forEach((val, j) => ((cols[j] as Float64Array)[i] = val));
  return fromColumns(v, cols);
}

const models: [string, string, (u: () => number, e: () => number) => [number, number, number]][] = [
  [
    'chain x -> y -> z',
    'x--y, y--z',
    (u, e) => {
      const x = u();
      const y = x * x + e();
      return [x, y, Math.cos(1.5 * y) + 0.5 * e()];
    },
  ],
  [
    'fork x <- y -> z',
    'x--y, y--z',
    (u, e) => {
      const y = u();
      return [y * y + e(), y, Math.cos(2 * y) + 0.5 * e()];
    },
  ],
  [
    'collider x -> y <- z',
    'x->y, z->y',
    (u, e) => {
      const x = u();
      const z = u();
      return [x, x * x + Math.cos(2 * z) + 0.5 * e(), z];
    },
  ],
];

describe('KCI', () => {
  for (const [name, cpdag, row] of models) {
    it(`recovers a nonlinear, non-Gaussian ${name} at n = 500 (where Fisher-z does not)`, () => {
      const data = sample(500, name, row);
      const expected = edgeList(graphOf(v, cpdag));
      expect(edgeList(pc(new KciTest(data)).graph.toGraph(v))).toEqual(expected);
      expect(edgeList(pc(new FisherZTest(data)).graph.toGraph(v))).not.toEqual(expected);
    });
  }

  it('gives large p-values to independent variables and tiny ones to dependent ones', () => {
    const data = sample(300, 'indep', (u, e) => {
      const x = u();
      return [x, u(), Math.abs(x) + e()];
    });
    const t = new KciTest(data);
    expect(t.test(0, 1)).toBeGreaterThan(0.05);
    expect(t.test(0, 2)).toBeLessThan(1e-6);
    expect(t.test(1, 2, [0])).toBeGreaterThan(0.05);
  });

  it("uses causal-learn's empirical kernel widths", () => {
    expect([hsicWidth(100), hsicWidth(500), hsicWidth(2000)]).toEqual([0.8, 0.5, 0.3]);
    expect([kciWidth(100), kciWidth(500), kciWidth(2000)]).toEqual([1.2, 0.7, 0.4]);
  });

  it("matches a literal transcription of causal-learn's KCI_CInd (eigenvalue truncation included) closely", () => {
    const n = 60;
    const data = sample(n, 'reference', (u, e) => {
      const x = u();
      const z = x + 0.3 * e();
      return [x, Math.sin(z) + 0.3 * e(), z];
    });
    const ours = new KciTest(data);
    for (const [x, y, s] of [
      [0, 1, [2]],
      [0, 2, [1]],
      [1, 2, [0]],
    ] as const) {
      const ref = referenceCInd(data, x, y, [...s]);
      const got = ours.test(x, y, [...s]);
      // Only the truncated eigen-tail differs (measured: < 1e-5 relative).
      expect(Math.abs(got - ref)).toBeLessThan(1e-4 * ref);
    }
  });

  it('kernel algebra: spdInverse and the congruence R K R agree with plain products', () => {
    const rng = new Rng('algebra');
    const n = 23;
    const col = Float64Array.from({ length: n }, () => rng.normal());
    const k = centerInPlace(gaussianKernel([{ values: col, scale: 1 }], 1.3), n);
    const a = Float64Array.from(k);
    for (let i = 0; i < n; i++) a[i * n + i]! += 0.1;
    const inv = spdInverse(a, n) as Float64Array;
    const eye = matmul(a, inv, n, n, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) expect(eye[i * n + j]).toBeCloseTo(i === j ? 1 : 0, 10);
    const rkr = congruence(inv, k, n);
    const ref = matmul(matmul(inv, k, n, n, n), inv, n, n, n);
    for (let i = 0; i < n * n; i++) expect(rkr[i]).toBeCloseTo(ref[i] as number, 10);
  });
});

/** causal-learn KCI_CInd.compute_pvalue, transcribed step by step with dense products. */
function referenceCInd(data: Table, x: number, y: number, s: number[]): number {
  const n = data.nRows;
  const p = data.columns.length;
  const z = (j: number): Float64Array => {
    const c = Float64Array.from({ length: n }, (_, i) => data.data[i * p + j] as number);
    const mean = c.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(c.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    return c.map((val) => (val - mean) / sd);
  };
  const width = 1 / kciWidth(n) ** 2 / s.length;
  const kx = centerInPlace(
    gaussianKernel([{ values: z(x), scale: 1 }, ...s.map((j) => ({ values: z(j), scale: 0.5 }))], width),
    n,
  );
  const ky = centerInPlace(gaussianKernel([{ values: z(y), scale: 1 }], width), n);
  const kz = centerInPlace(
    gaussianKernel(
      s.map((j) => ({ values: z(j), scale: 1 })),
      width,
    ),
    n,
  );
  for (let i = 0; i < n; i++) kz[i * n + i]! += 1e-3;
  const rz = (spdInverse(kz, n) as Float64Array).map((val) => val * 1e-3);
  const kxr = matmul(matmul(rz, kx, n, n, n), rz, n, n, n);
  const kyr = matmul(matmul(rz, ky, n, n, n), rz, n, n, n);
  let stat = 0;
  for (let i = 0; i < n * n; i++) stat += kxr[i]! * kyr[i]!;
  const factors = (k: Float64Array): Float64Array[] => {
    const sym = k.map((val, idx) => 0.5 * (val + k[(idx % n) * n + Math.floor(idx / n)]!));
    const { values, vectors } = symmetricEigen(sym, n);
    const max = Math.max(...values);
    const out: Float64Array[] = [];
    values.forEach((w, c) => {
      if (w > max * 1e-5)
        out.push(Float64Array.from({ length: n }, (_, r) => vectors[r * n + c]! * Math.sqrt(w)));
    });
    return out;
  };
  const fx = factors(kxr);
  const fy = factors(kyr);
  const uu: Float64Array[] = [];
  for (const a of fx) for (const b of fy) uu.push(a.map((val, r) => val * b[r]!));
  // uu_prod = uu' uu (size_u <= T) or uu uu' (size_u > T); both have the same trace and trace of square.
  const m = uu.length;
  const prod = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) prod[i * m + j] = uu[i]!.reduce((acc, val, r) => acc + val * uu[j]![r]!, 0);
  let mean = 0;
  let sq = 0;
  for (let i = 0; i < m; i++) mean += prod[i * m + i]!;
  for (let i = 0; i < m * m; i++) sq += prod[i]! ** 2;
  const variance = 2 * sq;
  return gammaSf(stat, (mean * mean) / variance, variance / mean);
}
