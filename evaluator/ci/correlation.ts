/**
 * Pearson correlation matrix of a table's columns, computed once per dataset: every Fisher-z test
 * afterwards is a small-matrix computation on it, independent of the number of rows.
 */
import type { Table } from '../../common/matrix.js';
import { CiTestError } from './ci-test.js';
import { correlationMatrix as pearsonMatrix } from '../metrics/correlation.js';

export interface ColumnScale {
  mean: Float64Array;
  /** Sample standard deviation (n - 1 denominator). */
  sd: Float64Array;
}

/**
 * Column means and sample standard deviations; rejects a constant column by name, since its
 * correlations are undefined (causal-learn would carry NaNs into every test involving it).
 */
export function columnScale(table: Table): ColumnScale {
  const p = table.columns.length;
  const n = table.nRows;
  const d = table.data;
  const mean = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const base = i * p;
    for (let j = 0; j < p; j++) mean[j] = (mean[j] as number) + (d[base + j] as number);
  }
  for (let j = 0; j < p; j++) mean[j] = (mean[j] as number) / n;
  const ss = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const base = i * p;
    for (let j = 0; j < p; j++) {
      const v = (d[base + j] as number) - (mean[j] as number);
      ss[j] = (ss[j] as number) + v * v;
    }
  }
  const sd = new Float64Array(p);
  const constant: string[] = [];
  for (let j = 0; j < p; j++) {
    sd[j] = n > 1 ? Math.sqrt((ss[j] as number) / (n - 1)) : 0;
    // A column of one repeated value can leave rounding residue of ~1e-17 * |mean| around the mean.
    if (!((sd[j] as number) > 1e-12 * Math.abs(mean[j] as number)) || sd[j] === 0) {
      constant.push(table.columns[j] as string);
    }
  }
  if (constant.length > 0) {
    throw new CiTestError(
      'CONSTANT_COLUMN',
      `column${constant.length > 1 ? 's' : ''} ${constant.map((c) => JSON.stringify(c)).join(', ')} ` +
        `${constant.length > 1 ? 'are' : 'is'} constant: no correlation or kernel test is defined for ` +
        'a variable that never varies (drop it before running PC)',
      { variables: constant },
    );
  }
  return { mean, sd };
}

/**
 * Correlation matrix (p x p, row-major) of the table's columns. Constant columns are refused
 * first with the CI tests' own error; the Pearson computation itself is the metrics library's,
 * so the project has one correlation kernel.
 */
export function dataCorrelation(table: Table): Float64Array {
  columnScale(table);
  const corr = pearsonMatrix(table, table).data;
  const p = table.columns.length;
  for (let j = 0; j < p; j++) corr[j * p + j] = 1;
  return corr;
}
