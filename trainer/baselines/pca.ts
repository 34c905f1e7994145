/**
 * Per-modality PCA: the linear baseline every nonlinear estimator must beat. It recovers the span
 * of the top-variance directions of each modality, so under nonlinear mixing and cross-modal
 * dependence its MCC shows what the identification machinery adds.
 */
import { latentName } from '../../common/graph.js';
import { symmetricEigen } from '../../common/linalg.js';
import { makeTable, type Table } from '../../common/matrix.js';

/** Projects standardised observations onto their top-`k` principal axes; columns `z<m>_<i>`. */
export function pcaLatents(observations: Table, k: number, modality: number): Table {
  const n = observations.nRows;
  const p = observations.columns.length;
  if (k > p) throw new RangeError(`PCA with ${k} components needs at least ${k} columns, got ${p}`);
  const mean = new Float64Array(p);
  const sd = new Float64Array(p);
  const x = observations.data;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < p; j++) mean[j] = (mean[j] as number) + (x[i * p + j] as number);
  for (let j = 0; j < p; j++) mean[j] = (mean[j] as number) / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++)
      sd[j] = (sd[j] as number) + ((x[i * p + j] as number) - (mean[j] as number)) ** 2;
  }
  for (let j = 0; j < p; j++) sd[j] = Math.sqrt((sd[j] as number) / n) || 1;

  const cov = new Float64Array(p * p);
  const row = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) row[j] = ((x[i * p + j] as number) - (mean[j] as number)) / (sd[j] as number);
    for (let a = 0; a < p; a++) {
      const ra = row[a] as number;
      for (let b = a; b < p; b++) cov[a * p + b] = (cov[a * p + b] as number) + ra * (row[b] as number);
    }
  }
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      const v = (cov[a * p + b] as number) / n;
      cov[a * p + b] = v;
      cov[b * p + a] = v;
    }
  }
  const { vectors } = symmetricEigen(cov, p);
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) row[j] = ((x[i * p + j] as number) - (mean[j] as number)) / (sd[j] as number);
    for (let c = 0; c < k; c++) {
      let acc = 0;
      for (let j = 0; j < p; j++) acc += (row[j] as number) * (vectors[j * p + c] as number);
      out[i * k + c] = acc;
    }
  }
  return makeTable(
    Array.from({ length: k }, (_, c) => latentName(modality, c + 1)),
    n,
    out,
  );
}
