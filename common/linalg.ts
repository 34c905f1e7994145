/**
 * Small dense linear algebra on row-major Float64Arrays (n x n, n up to a few thousand): what the
 * metrics, the CI tests and the data generator need, without a native dependency.
 */

/**
 * In-place Cholesky factorisation of a symmetric positive-definite matrix: on return the lower
 * triangle holds L with A = L L^T (the strict upper triangle is zeroed). Returns false when A is
 * not positive definite (a pivot <= 0), leaving `a` partly overwritten. Left-looking, updating
 * four rows per pass over row j so each load of L[j, k] feeds four multiply-adds: half the time
 * of the plain loop on a 2,000-row kernel matrix, which dominates every R² evaluation.
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j] as number;
    for (let k = 0; k < j; k++) {
      const v = a[rj + k] as number;
      d -= v * v;
    }
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    let i = j + 1;
    for (; i + 4 <= n; i += 4) {
      const r0 = i * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      let s0 = a[r0 + j] as number;
      let s1 = a[r1 + j] as number;
      let s2 = a[r2 + j] as number;
      let s3 = a[r3 + j] as number;
      for (let k = 0; k < j; k++) {
        const v = a[rj + k] as number;
        s0 -= (a[r0 + k] as number) * v;
        s1 -= (a[r1 + k] as number) * v;
        s2 -= (a[r2 + k] as number) * v;
        s3 -= (a[r3 + k] as number) * v;
      }
      a[r0 + j] = s0 / ljj;
      a[r1 + j] = s1 / ljj;
      a[r2 + j] = s2 / ljj;
      a[r3 + j] = s3 / ljj;
    }
    for (; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j] as number;
      for (let k = 0; k < j; k++) s -= (a[ri + k] as number) * (a[rj + k] as number);
      a[ri + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
  return true;
}

/**
 * Solves L L^T X = B for X given the Cholesky factor L (lower triangle of `l`). B is n x m
 * row-major and is overwritten with X.
 */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array, m: number): void {
  // Forward: L Y = B.
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let k = 0; k < i; k++) {
      const lik = l[rowI + k] as number;
      if (lik === 0) continue;
      for (let c = 0; c < m; c++) b[i * m + c] = (b[i * m + c] as number) - lik * (b[k * m + c] as number);
    }
    const lii = l[rowI + i] as number;
    for (let c = 0; c < m; c++) b[i * m + c] = (b[i * m + c] as number) / lii;
  }
  // Backward: L^T X = Y.
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const lki = l[k * n + i] as number;
      if (lki === 0) continue;
      for (let c = 0; c < m; c++) b[i * m + c] = (b[i * m + c] as number) - lki * (b[k * m + c] as number);
    }
    const lii = l[i * n + i] as number;
    for (let c = 0; c < m; c++) b[i * m + c] = (b[i * m + c] as number) / lii;
  }
}

export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /** Row-major n x n; column k is the unit eigenvector of values[k]. */
  vectors: Float64Array;
}

/** Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations (accurate; for n <= ~100). */
export function symmetricEigen(input: Float64Array, n: number, maxSweeps = 100): SymmetricEigen {
  const a = Float64Array.from(input);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => (a[y * n + y] as number) - (a[x * n + x] as number),
  );
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src] as number;
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src] as number;
  });
  return { values, vectors };
}

/** C = A B for row-major A (n x k) and B (k x m). */
export function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const ait = a[i * k + t] as number;
      if (ait === 0) continue;
      const bRow = t * m;
      const cRow = i * m;
      for (let j = 0; j < m; j++) c[cRow + j] = (c[cRow + j] as number) + ait * (b[bRow + j] as number);
    }
  }
  return c;
}

/** Transpose of a row-major n x m matrix. */
export function transpose(a: Float64Array, n: number, m: number): Float64Array {
  const t = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) t[j * n + i] = a[i * m + j] as number;
  return t;
}
