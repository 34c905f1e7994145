import { describe, expect, it } from 'vitest';
import { choleskyInPlace, choleskySolveInPlace } from '../../../../common/linalg.js';
import { fromColumns, makeTable } from '../../../../common/matrix.js';
import { Rng } from '../../../../common/random.js';
import { CiTestError } from '../../../../evaluator/ci/ci-test.js';
import { FisherZTest } from '../../../../evaluator/ci/fisher-z.js';
import { erfc } from '../../../../evaluator/ci/special-functions.js';
import { pc } from '../../../../evaluator/pc/pc.js';

const rng = new Rng('fisher-z');
const p = 8;
const n = 400;
const data = makeTable(
  Array.from({ length: p }, (_, i) => `v${i}`),
  n,
  Float64Array.from({ length: n * p }, (_, k) => rng.normal() + (k % p === 1 ? 0.5 * rng.normal() : 0)),
);
// Make the columns correlated: v_j += 0.6 v_{j-1}.
for (let i = 0; i < n; i++)
  for (let j = 1; j < p; j++) data.data[i * p + j]! += 0.6 * data.data[i * p + j - 1]!;

/** causal-learn's formula: r = -P[0,1] / sqrt(P[0,0] P[1,1]) with P the inverse of the submatrix. */
function reference(t: FisherZTest, x: number, y: number, s: number[]): { r: number; p: number } {
  const vars = [x, y, ...s];
  const q = vars.length;
  const sub = new Float64Array(q * q);
  for (let i = 0; i < q; i++)
    for (let j = 0; j < q; j++) sub[i * q + j] = t.correlation[vars[i]! * p + vars[j]!]!;
  const l = Float64Array.from(sub);
  choleskyInPlace(l, q);
  const inv = new Float64Array(q * q);
  for (let i = 0; i < q; i++) inv[i * q + i] = 1;
  choleskySolveInPlace(l, q, inv, q);
  const r = -inv[1]! / Math.sqrt(inv[0]! * inv[q + 1]!);
  const z = Math.sqrt(n - s.length - 3) * Math.abs(0.5 * Math.log((1 + r) / (1 - r)));
  return { r, p: erfc(z / Math.SQRT2) };
}

describe('Fisher-z test', () => {
  it('computes the correlation matrix of the columns', () => {
    const t = new FisherZTest(
      fromColumns(['a', 'b'], [Float64Array.of(1, 2, 3, 4), Float64Array.of(2, 4, 5, 9)]),
    );
    // Pearson r of (1,2,3,4) and (2,4,5,9): sum dx dy = 11, sum dx^2 = 5, sum dy^2 = 26.
    expect(t.correlation[1]).toBeCloseTo(11 / Math.sqrt(130), 14);
  });

  it("matches causal-learn's inverse-submatrix formula for conditioning sets of size 0-5", () => {
    const t = new FisherZTest(data);
    for (let k = 0; k < 200; k++) {
      const perm = rng.permutation(p);
      const [x, y] = [perm[0]!, perm[1]!];
      const s = perm.slice(2, 2 + rng.int(6));
      const ref = reference(t, x, y, s);
      expect(t.partialCorrelation(x, y, s)).toBeCloseTo(ref.r, 12);
      expect(Math.abs(t.test(x, y, s) - ref.p)).toBeLessThan(1e-12);
    }
  });

  it('canonicalises queries: symmetric in x, y, independent of the order of S, cached', () => {
    const t = new FisherZTest(data);
    const a = t.test(3, 1, [5, 2]);
    expect(t.test(1, 3, [2, 5])).toBe(a);
    expect(t.test(1, 3, [5, 2, 2])).toBe(a);
    expect(t.testsRun).toBe(1);
    expect(() => t.test(1, 1, [])).toThrow(CiTestError);
    expect(() => t.test(1, 2, [2])).toThrow(/invalid CI query/);
  });

  it('rejects a constant column, naming it', () => {
    const bad = fromColumns(
      ['a', 'flat', 'c'],
      [Float64Array.of(1, 2, 3, 5), Float64Array.of(0.1, 0.1, 0.1, 0.1), Float64Array.of(3, 1, 2, 0)],
    );
    let err: unknown;
    try {
      new FisherZTest(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CiTestError);
    expect((err as CiTestError).reason).toBe('CONSTANT_COLUMN');
    expect((err as CiTestError).code).toBe('INVALID_ARGUMENT');
    expect((err as CiTestError).variables).toEqual(['flat']);
  });

  it('rejects duplicated (or affinely dependent) columns, naming both', () => {
    const a = Float64Array.of(1, 2, 3, 5, 8);
    const bad = fromColumns(['a', 'b', 'a2'], [a, Float64Array.of(3, 1, 4, 1, 5), a.map((v) => 2 * v + 1)]);
    expect(() => new FisherZTest(bad)).toThrow(/columns "a" and "a2" are perfectly correlated/);
  });

  it('refuses a singular conditioning submatrix with the variables, as causal-learn refuses singular data', () => {
    const cols = [0, 1, 2].map(() => Float64Array.from({ length: 100 }, () => rng.normal()));
    const sum = cols[0]!.map((v, i) => v + cols[1]![i]!);
    const t = new FisherZTest(fromColumns(['a', 'b', 'c', 'a+b'], [...cols, sum]));
    expect(t.test(0, 2, [])).toBeGreaterThan(0);
    let err: unknown;
    try {
      t.test(2, 3, [0, 1]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CiTestError);
    expect((err as CiTestError).reason).toBe('SINGULAR');
    expect((err as CiTestError).variables).toEqual(['c', 'a+b', 'a', 'b']);
    expect((err as Error).message).toMatch(/singular/);
    // PC on such data stops with that error rather than returning a NaN-driven graph.
    expect(() => pc(t)).toThrow(CiTestError);
  });

  it('refuses tests the sample size cannot support (n <= |S| + 3)', () => {
    const small = makeTable(
      ['a', 'b', 'c', 'd', 'e'],
      6,
      Float64Array.from({ length: 30 }, () => rng.normal()),
    );
    const t = new FisherZTest(small);
    expect(t.test(0, 1, [2, 3, 4].slice(0, 2))).toBeGreaterThanOrEqual(0);
    expect(() => t.test(0, 1, [2, 3, 4])).toThrow(/needs more than \|S\| \+ 3 = 6 rows/);
  });

  it('accepts a correlation matrix and sample size instead of data', () => {
    const t = new FisherZTest(data);
    const u = new FisherZTest({ names: data.columns, correlation: t.correlation, nSamples: n });
    expect(u.test(0, 4, [1, 2])).toBe(t.test(0, 4, [1, 2]));
    expect(() => new FisherZTest({ names: ['a'], correlation: Float64Array.of(2), nSamples: 10 })).toThrow(
      /diagonal/,
    );
  });
});
