/**
 * Kernel-based conditional independence test (Zhang, Peters, Janzing & Schoelkopf, UAI 2011) with
 * the gamma approximation of the null, following causal-learn's `KCI_UInd` / `KCI_CInd` with their
 * defaults: Gaussian kernels on z-scored data (ddof = 1), "empirical" widths chosen by sample size,
 * x concatenated with 0.5 * Z, regularisation epsilon = 1e-3.
 *
 * One deliberate difference, documented in evaluator/pc/README.md: causal-learn computes the
 * gamma moments from the eigenvectors of the residualised kernels after dropping eigenvalues below
 * 1e-5 of the largest; we use the identities tr(UU') = sum_t Kx[t,t] Ky[t,t] and
 * tr((UU')^2) = sum_ts (Kx[t,s] Ky[t,s])^2 on the full matrices, which skips two O(n^3)
 * eigendecompositions and changes the moments only by the truncated tail.
 */
import type { Table } from '../../common/matrix.js';
import { CrlError } from '../../common/errors.js';
import { CiTest, CiTestError } from './ci-test.js';
import { columnScale } from './correlation.js';
import { centerInPlace, congruence, gaussianKernel, spdInverse, type ScaledColumn } from './kernel.js';
import { gammaSf } from './special-functions.js';

export interface KciOptions {
  /** Ridge of the kernel regression on Z (causal-learn's epsilon_x = epsilon_y). Default 1e-3. */
  epsilon?: number;
  /** Memory, in bytes, for cached kernel matrices. Default 256 MiB. */
  cacheBytes?: number;
  /**
   * Largest number of rows accepted. Default 5000: the test holds several n x n matrices (at
   * n = 5000, about 1.2 GB) and costs O(n^3) per conditional test.
   */
  maxRows?: number;
}

/** causal-learn's `set_width_empirical_hsic` (unconditional test), as sigma. */
export function hsicWidth(n: number): number {
  return n < 200 ? 0.8 : n < 1200 ? 0.5 : 0.3;
}

/** causal-learn's `set_width_empirical_kci` (conditional test), as sigma. */
export function kciWidth(n: number): number {
  return n < 200 ? 1.2 : n < 1200 ? 0.7 : 0.4;
}

export class KciTest extends CiTest {
  readonly nSamples: number;
  private readonly z: Float64Array[];
  private readonly epsilon: number;
  private readonly kernels: KernelCache;

  constructor(table: Table, options: KciOptions = {}) {
    super(table.columns);
    const n = table.nRows;
    this.nSamples = n;
    this.epsilon = options.epsilon ?? 1e-3;
    if (n < 3) {
      throw new CiTestError('TOO_FEW_ROWS', `KCI needs at least 3 rows, the data have ${n}`, {
        variables: table.columns,
      });
    }
    const maxRows = options.maxRows ?? 5000;
    if (n > maxRows) {
      throw new CrlError(
        'FAILED_PRECONDITION',
        `KCI keeps n x n kernel matrices and is O(n^3) per test: ${n} rows is more than ${maxRows}; ` +
          'subsample the rows (a few thousand suffice) or use the Fisher-z test',
      );
    }
    const { mean, sd } = columnScale(table);
    const p = table.columns.length;
    this.z = Array.from({ length: p }, () => new Float64Array(n));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) {
        (this.z[j] as Float64Array)[i] =
          ((table.data[i * p + j] as number) - (mean[j] as number)) / (sd[j] as number);
      }
    }
    this.kernels = new KernelCache(options.cacheBytes ?? 256 * 1024 * 1024);
  }

  protected pValue(x: number, y: number, s: readonly number[]): number {
    return s.length === 0 ? this.unconditional(x, y) : this.conditional(x, y, s);
  }

  /** HSIC with the gamma approximation (KCI_UInd). */
  private unconditional(x: number, y: number): number {
    const n = this.nSamples;
    const kx = this.centeredKernel(x);
    const ky = this.centeredKernel(y);
    let stat = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < n * n; i++) {
      const a = kx[i] as number;
      const b = ky[i] as number;
      stat += a * b;
      sxx += a * a;
      syy += b * b;
    }
    let trx = 0;
    let try_ = 0;
    for (let i = 0; i < n; i++) {
      trx += kx[i * n + i] as number;
      try_ += ky[i * n + i] as number;
    }
    const mean = (trx * try_) / n;
    const variance = (2 * sxx * syy) / n / n;
    return gammaPValue(stat, mean, variance);
  }

  /** KCI_CInd: kernels of (x, Z/2) and y residualised on Z by kernel ridge regression. */
  private conditional(x: number, y: number, s: readonly number[]): number {
    const n = this.nSamples;
    const sigma = kciWidth(n);
    const width = 1 / (sigma * sigma) / s.length;
    const zcols: ScaledColumn[] = s.map((v) => ({ values: this.z[v] as Float64Array, scale: 1 }));
    const kx = centerInPlace(
      gaussianKernel(
        [{ values: this.z[x] as Float64Array, scale: 1 }, ...zcols.map((c) => ({ ...c, scale: 0.5 }))],
        width,
      ),
      n,
    );
    const ky = centerInPlace(gaussianKernel([{ values: this.z[y] as Float64Array, scale: 1 }], width), n);
    const rz = this.residualMaker(s, zcols, width);
    const kxr = congruence(rz, kx, n);
    const kyr = congruence(rz, ky, n);
    let stat = 0;
    let sq = 0;
    for (let i = 0; i < n * n; i++) {
      const prod = (kxr[i] as number) * (kyr[i] as number);
      stat += prod;
      sq += prod * prod;
    }
    let mean = 0;
    for (let i = 0; i < n; i++) mean += (kxr[i * n + i] as number) * (kyr[i * n + i] as number);
    return gammaPValue(stat, mean, 2 * sq);
  }

  /** Centred Gaussian kernel of one variable with the HSIC width, cached per variable. */
  private centeredKernel(v: number): Float64Array {
    const key = `u${v}`;
    const hit = this.kernels.get(key);
    if (hit) return hit;
    const n = this.nSamples;
    const sigma = hsicWidth(n);
    const k = centerInPlace(
      gaussianKernel([{ values: this.z[v] as Float64Array, scale: 1 }], 1 / (sigma * sigma)),
      n,
    );
    this.kernels.set(key, k);
    return k;
  }

  /** R_Z = epsilon (K_Z + epsilon I)^-1 with K_Z centred, cached per conditioning set. */
  private residualMaker(s: readonly number[], zcols: readonly ScaledColumn[], width: number): Float64Array {
    const key = `r${s.join('.')}`;
    const hit = this.kernels.get(key);
    if (hit) return hit;
    const n = this.nSamples;
    const kz = centerInPlace(gaussianKernel(zcols, width), n);
    for (let i = 0; i < n; i++) kz[i * n + i] = (kz[i * n + i] as number) + this.epsilon;
    const inv = spdInverse(kz, n);
    if (!inv) {
      throw new CiTestError(
        'SINGULAR',
        `the regularised kernel matrix of ${this.namesOf(s).join(', ')} is singular`,
        {
          s,
          variables: this.namesOf(s),
        },
      );
    }
    for (let i = 0; i < inv.length; i++) inv[i] = (inv[i] as number) * this.epsilon;
    this.kernels.set(key, inv);
    return inv;
  }
}

/** 1 - GammaCDF(stat) for the gamma distribution with the given mean and variance. */
function gammaPValue(stat: number, mean: number, variance: number): number {
  const shape = (mean * mean) / variance;
  const scale = variance / mean;
  return gammaSf(stat, shape, scale);
}

/** Least-recently-used cache of n x n matrices bounded by total bytes. */
class KernelCache {
  private readonly entries = new Map<string, Float64Array>();
  private bytes = 0;

  constructor(private readonly budget: number) {}

  get(key: string): Float64Array | undefined {
    const v = this.entries.get(key);
    if (v) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  set(key: string, value: Float64Array): void {
    if (value.byteLength > this.budget) return;
    this.entries.set(key, value);
    this.bytes += value.byteLength;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.budget) break;
      this.entries.delete(k);
      this.bytes -= v.byteLength;
    }
  }
}
