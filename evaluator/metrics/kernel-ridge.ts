/**
 * Exact kernel ridge regression with the RBF kernel k(x, x') = exp(-gamma |x - x'|^2), as in
 * sklearn.kernel_ridge.KernelRidge(kernel='rbf'): coefficients solve (K + alpha I) C = Y by
 * Cholesky, predictions are K(x_new, X) C. Fitting costs O(n^3), so callers cap n (a 2,000-row
 * fit takes a few seconds); prediction costs O(n_new n d) and is cheap by comparison.
 */
import { invalidArgument } from '../../common/errors.js';
import { choleskyInPlace, choleskySolveInPlace } from '../../common/linalg.js';

export interface KernelRidgeParams {
  /** RBF width: k = exp(-gamma * squared distance); > 0. */
  gamma: number;
  /** Ridge added to the kernel diagonal; > 0 keeps the system positive definite. */
  alpha: number;
}

export interface KernelRidgeModel extends KernelRidgeParams {
  /** Training inputs, row-major n x d (kept: prediction needs them). */
  readonly x: Float64Array;
  readonly n: number;
  readonly d: number;
  /** Dual coefficients, row-major n x m. */
  readonly coef: Float64Array;
  readonly m: number;
}

/**
 * Fits kernel ridge regression of targets `y` (n x m, row-major) on inputs `x` (n x d).
 *
 * @throws CrlError (INVALID_ARGUMENT, field `alpha`) when K + alpha I is numerically not positive
 *   definite, which only a tiny alpha with near-duplicate rows can cause
 */
export function fitKernelRidge(
  x: Float64Array,
  n: number,
  d: number,
  y: Float64Array,
  m: number,
  params: KernelRidgeParams,
): KernelRidgeModel {
  const { gamma, alpha } = params;
  if (!(gamma > 0) || !Number.isFinite(gamma)) throw invalidArgument(`gamma must be > 0, got ${gamma}`);
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw invalidArgument(`alpha must be > 0, got ${alpha}`);
  const k = rbfKernel(x, n, x, n, d, gamma);
  for (let i = 0; i < n; i++) k[i * n + i] = (k[i * n + i] as number) + alpha;
  if (!choleskyInPlace(k, n)) {
    throw invalidArgument(
      `kernel matrix + alpha*I is not positive definite at alpha=${alpha}; increase alpha`,
      {
        field: 'alpha',
      },
    );
  }
  const coef = Float64Array.from(y);
  choleskySolveInPlace(k, n, coef, m);
  return { gamma, alpha, x, n, d, coef, m };
}

/** Predictions (nNew x m, row-major) of a fitted model at inputs `xNew` (nNew x d). */
export function predictKernelRidge(model: KernelRidgeModel, xNew: Float64Array, nNew: number): Float64Array {
  const { x, n, d, coef, m, gamma } = model;
  const out = new Float64Array(nNew * m);
  const krow = new Float64Array(n);
  for (let i = 0; i < nNew; i++) {
    kernelRow(xNew, i, x, n, d, gamma, krow);
    const ob = i * m;
    for (let t = 0; t < n; t++) {
      const kt = krow[t] as number;
      const cb = t * m;
      for (let c = 0; c < m; c++) out[ob + c] = (out[ob + c] as number) + kt * (coef[cb + c] as number);
    }
  }
  return out;
}

/** RBF kernel matrix between the rows of `a` (na x d) and `b` (nb x d), row-major na x nb. */
export function rbfKernel(
  a: Float64Array,
  na: number,
  b: Float64Array,
  nb: number,
  d: number,
  gamma: number,
): Float64Array {
  const out = new Float64Array(na * nb);
  if (a === b && na === nb) {
    // Symmetric: compute the upper triangle once and mirror it; the diagonal is exactly 1.
    for (let i = 0; i < na; i++) {
      out[i * na + i] = 1;
      const ai = i * d;
      for (let j = i + 1; j < na; j++) {
        const bj = j * d;
        let s = 0;
        for (let c = 0; c < d; c++) {
          const diff = (a[ai + c] as number) - (a[bj + c] as number);
          s += diff * diff;
        }
        const v = Math.exp(-gamma * s);
        out[i * na + j] = v;
        out[j * na + i] = v;
      }
    }
    return out;
  }
  const row = new Float64Array(nb);
  for (let i = 0; i < na; i++) {
    kernelRow(a, i, b, nb, d, gamma, row);
    out.set(row, i * nb);
  }
  return out;
}

/** out[t] = k(a[i, :], b[t, :]) for every row t of b. */
function kernelRow(
  a: Float64Array,
  i: number,
  b: Float64Array,
  nb: number,
  d: number,
  gamma: number,
  out: Float64Array,
): void {
  const ai = i * d;
  for (let t = 0; t < nb; t++) {
    const bt = t * d;
    let s = 0;
    for (let c = 0; c < d; c++) {
      const diff = (a[ai + c] as number) - (b[bt + c] as number);
      s += diff * diff;
    }
    out[t] = Math.exp(-gamma * s);
  }
}
