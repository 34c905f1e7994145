import { describe, expect, it } from 'vitest';
import {
  choleskyInPlace,
  choleskySolveInPlace,
  matmul,
  symmetricEigen,
  transpose,
} from '../../../common/linalg.js';
import { Rng } from '../../../common/random.js';

function randomSpd(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  const spd = matmul(a, transpose(a, n, n), n, n, n);
  for (let i = 0; i < n; i++) spd[i * n + i] = (spd[i * n + i] as number) + n;
  return spd;
}

describe('linalg', () => {
  it('solves SPD systems through Cholesky', () => {
    const rng = new Rng(2);
    const n = 12;
    const a = randomSpd(n, rng);
    const x = new Float64Array(n * 2).map(() => rng.normal());
    const b = matmul(a, x, n, n, 2);
    const l = Float64Array.from(a);
    expect(choleskyInPlace(l, n)).toBe(true);
    choleskySolveInPlace(l, n, b, 2);
    b.forEach((v, i) => expect(v).toBeCloseTo(x[i] as number, 10));
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(choleskyInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toBe(false);
  });

  it('diagonalises symmetric matrices: A v = lambda v, orthonormal, descending', () => {
    const rng = new Rng(4);
    const n = 9;
    const a = randomSpd(n, rng);
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 0; k < n; k++) {
      if (k > 0) expect(values[k - 1]).toBeGreaterThanOrEqual(values[k] as number);
      const v = Array.from({ length: n }, (_, i) => vectors[i * n + k] as number);
      const av = matmul(a, Float64Array.from(v), n, n, 1);
      av.forEach((x, i) => expect(x).toBeCloseTo((values[k] as number) * (v[i] as number), 8));
    }
    const vtv = matmul(transpose(vectors, n, n), vectors, n, n, n);
    vtv.forEach((x, i) => expect(x).toBeCloseTo(i % (n + 1) === 0 ? 1 : 0, 10));
  });
});
