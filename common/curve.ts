/**
 * The training curve: one row per evaluation, as `curve.csv` stores it in every run directory
 * (`crl train`'s and the coordinator's alike).
 */
import { formatCsv } from './csv.js';
import { makeTable } from './matrix.js';

export interface CurveRow {
  step: number;
  lr: number;
  train_total: number;
  train_ind: number;
  train_sp: number;
  train_recon: number;
  val_total: number;
  val_ind: number;
  val_sp: number;
  val_recon: number;
  /** Edges in the current graph readout. */
  edges: number;
  wall_s: number;
}

export const CURVE_COLUMNS: readonly (keyof CurveRow)[] = [
  'step',
  'lr',
  'train_total',
  'train_ind',
  'train_sp',
  'train_recon',
  'val_total',
  'val_ind',
  'val_sp',
  'val_recon',
  'edges',
  'wall_s',
];

export function curveCsv(curve: readonly CurveRow[]): string {
  const p = CURVE_COLUMNS.length;
  const data = new Float64Array(curve.length * p);
  curve.forEach((row, r) => CURVE_COLUMNS.forEach((c, j) => (data[r * p + j] = row[c])));
  return formatCsv(makeTable(CURVE_COLUMNS, curve.length, data));
}
