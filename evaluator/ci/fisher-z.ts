/**
 * Fisher's z test on partial correlations, as causal-learn's `FisherZ`: with r the partial
 * correlation of x and y given S, z = sqrt(n - |S| - 3) * |atanh(r)| and p = 2 (1 - Phi(z)).
 * The correlation matrix is computed once; a query then costs one Cholesky factorisation of the
 * (|S| + 2)-square correlation submatrix, whatever the number of rows.
 */
import { invalidArgument } from '../../common/errors.js';
import type { Table } from '../../common/matrix.js';
import { CiTest, CiTestError } from './ci-test.js';
import { dataCorrelation } from './correlation.js';
import { erfc } from './special-functions.js';

export interface FisherZOptions {
  /**
   * A Cholesky pivot of the correlation submatrix at or below this (the unexplained variance of a
   * variable given the ones before it) means the submatrix is singular. Default 1e-10.
   */
  singularTolerance?: number;
  /** |r| at or above 1 - this between two columns is a duplicate. Default 1e-12. */
  duplicateTolerance?: number;
}

/** Sufficient statistics of the test (pcalg's `suffStat = list(C, n)`), for data not at hand. */
export interface CorrelationInput {
  names: readonly string[];
  /** p x p row-major correlation matrix. */
  correlation: Float64Array;
  nSamples: number;
}

export class FisherZTest extends CiTest {
  /** Correlation matrix, p x p row-major. */
  readonly correlation: Float64Array;
  readonly nSamples: number;
  private readonly tol: number;
  private scratch = new Float64Array(16);
  private idx: number[] = [];

  /**
   * Fisher-z test on the columns of a table (or on a given correlation matrix and sample size);
   * rejects constant and duplicated columns by name.
   */
  constructor(source: Table | CorrelationInput, options: FisherZOptions = {}) {
    const fromTable = 'data' in source;
    super(fromTable ? source.columns : source.names);
    this.tol = options.singularTolerance ?? 1e-10;
    if (fromTable) {
      this.nSamples = source.nRows;
      this.correlation = dataCorrelation(source);
    } else {
      this.nSamples = source.nSamples;
      this.correlation = checkCorrelation(source);
    }
    this.rejectDuplicates(options.duplicateTolerance ?? 1e-12);
  }

  /** Partial correlation of x and y given s (any order; x, y not in s). */
  partialCorrelation(x: number, y: number, s: readonly number[]): number {
    const k = s.length;
    const m = k + 2;
    if (this.scratch.length < m * m) this.scratch = new Float64Array(m * m);
    const a = this.scratch;
    const c = this.correlation;
    const p = this.nVars;
    const idx = this.idx;
    idx.length = 0;
    for (const v of s) idx.push(v);
    idx.push(x, y);
    // Cholesky of the submatrix ordered [S, x, y]: the last two rows then hold the residual
    // covariance of (x, y) given S, and each pivot is a residual variance.
    for (let i = 0; i < m; i++) {
      const ci = (idx[i] as number) * p;
      const ri = i * m;
      for (let j = 0; j <= i; j++) {
        let sum = c[ci + (idx[j] as number)] as number;
        const rj = j * m;
        for (let t = 0; t < j; t++) sum -= (a[ri + t] as number) * (a[rj + t] as number);
        if (i === j) {
          if (!(sum > this.tol)) throw this.singular(x, y, s, idx[i] as number);
          a[ri + i] = Math.sqrt(sum);
        } else {
          a[ri + j] = sum / (a[rj + j] as number);
        }
      }
    }
    const lyx = a[(m - 1) * m + (m - 2)] as number;
    const lyy = a[(m - 1) * m + (m - 1)] as number;
    return lyx / Math.sqrt(lyx * lyx + lyy * lyy);
  }

  protected pValue(x: number, y: number, s: readonly number[]): number {
    const dof = this.nSamples - s.length - 3;
    if (!(dof > 0)) {
      throw new CiTestError(
        'TOO_FEW_ROWS',
        `Fisher-z needs more than |S| + 3 = ${s.length + 3} rows to test ${this.describe(x, y, s)}; ` +
          `the data have ${this.nSamples} (lower --max-k or add rows)`,
        { x, y, s, variables: this.namesOf([x, y, ...s]) },
      );
    }
    let r = this.partialCorrelation(x, y, s);
    if (r > 1) r = 1;
    else if (r < -1) r = -1;
    const z = Math.sqrt(dof) * Math.abs(Math.atanh(r));
    return erfc(z / Math.SQRT2);
  }

  private singular(x: number, y: number, s: readonly number[], at: number): CiTestError {
    const vars = this.namesOf([x, y, ...s]);
    return new CiTestError(
      'SINGULAR',
      `the correlation matrix of ${vars.map((v) => JSON.stringify(v)).join(', ')} is singular ` +
        `(${JSON.stringify(this.names[at])} is a linear function of the others): ` +
        `cannot test ${this.describe(x, y, s)}`,
      { x, y, s, variables: vars },
    );
  }

  private rejectDuplicates(tol: number): void {
    const p = this.nVars;
    for (let i = 0; i < p; i++) {
      for (let j = i + 1; j < p; j++) {
        if (Math.abs(this.correlation[i * p + j] as number) >= 1 - tol) {
          const a = this.names[i] as string;
          const b = this.names[j] as string;
          throw new CiTestError(
            'DUPLICATE_COLUMN',
            `columns ${JSON.stringify(a)} and ${JSON.stringify(b)} are perfectly correlated ` +
              '(duplicated or one a linear function of the other): the correlation matrix is singular',
            { x: i, y: j, variables: [a, b] },
          );
        }
      }
    }
  }
}

function checkCorrelation(input: CorrelationInput): Float64Array {
  const p = input.names.length;
  const c = input.correlation;
  if (c.length !== p * p) {
    throw invalidArgument(`correlation matrix has ${c.length} entries, expected ${p} x ${p}`, {
      field: 'correlation',
    });
  }
  if (!(Number.isInteger(input.nSamples) && input.nSamples > 0)) {
    throw invalidArgument(`sample size must be a positive integer, got ${input.nSamples}`, {
      field: 'nSamples',
    });
  }
  for (let i = 0; i < p; i++) {
    if (Math.abs((c[i * p + i] as number) - 1) > 1e-9) {
      throw invalidArgument(`correlation matrix diagonal entry ${i} is ${c[i * p + i]}, not 1`, {
        field: 'correlation',
      });
    }
    for (let j = 0; j < p; j++) {
      const v = c[i * p + j] as number;
      if (!Number.isFinite(v) || Math.abs(v) > 1 + 1e-12 || Math.abs(v - (c[j * p + i] as number)) > 1e-12) {
        throw invalidArgument(
          `correlation matrix entry (${i}, ${j}) = ${v} is not a symmetric value in [-1, 1]`,
          {
            field: 'correlation',
          },
        );
      }
    }
  }
  const out = Float64Array.from(c);
  for (let i = 0; i < p; i++) out[i * p + i] = 1;
  return out;
}
