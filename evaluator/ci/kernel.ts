/**
 * Dense kernel-matrix algebra for the kernel CI test: Gaussian kernel matrices, double centring,
 * the symmetric positive-definite inverse and the congruence R K R, on row-major n x n
 * Float64Arrays. Written for n in the hundreds to low thousands (O(n^2) memory, O(n^3) time).
 */
import { choleskyInPlace } from '../../common/linalg.js';

/** A column of data with the factor it is scaled by before distances are taken. */
export interface ScaledColumn {
  values: Float64Array;
  scale: number;
}

/**
 * K[i][j] = exp(-0.5 * width * ||u_i - u_j||^2) where u_i stacks the scaled columns at row i;
 * `width` is causal-learn's `GaussianKernel.width`, i.e. 1 / sigma^2.
 */
export function gaussianKernel(columns: readonly ScaledColumn[], width: number): Float64Array {
  const n = columns[0]?.values.length ?? 0;
  const k = new Float64Array(n * n);
  for (const { values, scale } of columns) {
    const s2 = scale * scale;
    for (let i = 0; i < n; i++) {
      const vi = values[i] as number;
      const row = i * n;
      for (let j = i + 1; j < n; j++) {
        const d = vi - (values[j] as number);
        k[row + j] = (k[row + j] as number) + s2 * d * d;
      }
    }
  }
  const f = -0.5 * width;
  for (let i = 0; i < n; i++) {
    k[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const v = Math.exp(f * (k[i * n + j] as number));
      k[i * n + j] = v;
      k[j * n + i] = v;
    }
  }
  return k;
}

/** H K H with H = I - 11'/n, in place, for symmetric K. */
export function centerInPlace(k: Float64Array, n: number): Float64Array {
  const mean = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) s += k[row + j] as number;
    mean[i] = s / n;
    total += s;
  }
  total /= n * n;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    const mi = (mean[i] as number) - total;
    for (let j = 0; j < n; j++) k[row + j] = (k[row + j] as number) - mi - (mean[j] as number);
  }
  return k;
}

/**
 * Inverse of a symmetric positive-definite matrix via Cholesky: A^-1 = L^-T L^-1. Returns
 * undefined when A is not positive definite.
 */
export function spdInverse(a: Float64Array, n: number): Float64Array | undefined {
  const l = Float64Array.from(a);
  if (!choleskyInPlace(l, n)) return undefined;
  // Invert L in place (lower triangular), column by column.
  for (let j = 0; j < n; j++) {
    l[j * n + j] = 1 / (l[j * n + j] as number);
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let t = j; t < i; t++) s -= (l[row + t] as number) * (l[t * n + j] as number);
      l[row + j] = s / (l[row + i] as number);
    }
  }
  // A^-1[i][j] = sum_{t >= max(i,j)} Linv[t][i] Linv[t][j].
  const out = new Float64Array(n * n);
  for (let t = 0; t < n; t++) {
    const row = t * n;
    for (let i = 0; i <= t; i++) {
      const v = l[row + i] as number;
      if (v === 0) continue;
      const oi = i * n;
      for (let j = i; j <= t; j++) out[oi + j] = (out[oi + j] as number) + v * (l[row + j] as number);
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[j * n + i] = out[i * n + j] as number;
  return out;
}

/**
 * C = A B^T for row-major A and B of `rows` x `inner` (C is rows x rows), as dot products of rows
 * (contiguous in both operands), two rows of A by four rows of B at a time so each loaded value is
 * used several times: about four times faster than the textbook i-k-j loop in V8. With `upper`,
 * only entries j >= i are guaranteed (the lower triangle may be left zero or partly filled).
 */
export function multiplyTransposed(
  a: Float64Array,
  b: Float64Array,
  rows: number,
  upper = false,
  inner = rows,
): Float64Array {
  const n = rows;
  const m = inner;
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i += 2) {
    const two = i + 1 < n;
    const a0 = i * m;
    const a1 = two ? a0 + m : a0;
    const c0 = i * n;
    const c1 = two ? c0 + n : c0;
    for (let j = upper ? i - (i % 4) : 0; j < n; j += 4) {
      if (j + 3 < n) {
        const b0 = j * m;
        const b1 = b0 + m;
        const b2 = b1 + m;
        const b3 = b2 + m;
        let s00 = 0;
        let s01 = 0;
        let s02 = 0;
        let s03 = 0;
        let s10 = 0;
        let s11 = 0;
        let s12 = 0;
        let s13 = 0;
        for (let t = 0; t < m; t++) {
          const x0 = a[a0 + t] as number;
          const x1 = a[a1 + t] as number;
          const y0 = b[b0 + t] as number;
          const y1 = b[b1 + t] as number;
          const y2 = b[b2 + t] as number;
          const y3 = b[b3 + t] as number;
          s00 += x0 * y0;
          s01 += x0 * y1;
          s02 += x0 * y2;
          s03 += x0 * y3;
          s10 += x1 * y0;
          s11 += x1 * y1;
          s12 += x1 * y2;
          s13 += x1 * y3;
        }
        c[c0 + j] = s00;
        c[c0 + j + 1] = s01;
        c[c0 + j + 2] = s02;
        c[c0 + j + 3] = s03;
        if (two) {
          c[c1 + j] = s10;
          c[c1 + j + 1] = s11;
          c[c1 + j + 2] = s12;
          c[c1 + j + 3] = s13;
        }
      } else {
        for (let jj = j; jj < n; jj++) {
          const bj = jj * m;
          let s0 = 0;
          let s1 = 0;
          for (let t = 0; t < m; t++) {
            const y = b[bj + t] as number;
            s0 += (a[a0 + t] as number) * y;
            s1 += (a[a1 + t] as number) * y;
          }
          c[c0 + jj] = s0;
          if (two) c[c1 + jj] = s1;
        }
      }
    }
  }
  return c;
}

/** R K R for symmetric R and K: (R K) R = U R^T with U = R K^T, the second product only above the diagonal. */
export function congruence(r: Float64Array, k: Float64Array, n: number): Float64Array {
  const u = multiplyTransposed(r, k, n);
  const out = multiplyTransposed(u, r, n, true);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[j * n + i] = out[i * n + j] as number;
  return out;
}
