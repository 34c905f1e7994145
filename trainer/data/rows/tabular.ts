/**
 * A tabular modality as a block: checked for finite values, standardised per column over the
 * participants who have it (two passes in doubles), and laid out in cohort order with zero rows
 * for participants who lack it.
 */
import { invalidArgument } from '../../../common/errors.js';
import type { Table } from '../../../common/matrix.js';
import { DenseBlock } from './block.js';
import type { Scaling } from './standardize.js';

export interface TabularSource {
  name: string;
  table: Table;
  /** For error messages: the file the table came from. */
  file?: string;
  /** 1-based line (CSV: header on line 1) or row (Parquet) of source row r, for error messages. */
  lineOf?: (r: number) => { line: number } | { row: number };
}

export function tabularBlock(
  src: TabularSource,
  join?: { n: number; rowOf: Int32Array },
): { block: DenseBlock; scaling: Scaling } {
  const t = src.table;
  const rows = t.nRows;
  const d = t.columns.length;
  const where = { file: src.file ?? src.name };
  const lineOf = src.lineOf ?? ((r: number) => ({ line: r + 2 }));
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < d; c++) {
      const v = t.data[r * d + c] as number;
      if (!Number.isFinite(v)) {
        throw invalidArgument(`non-finite value ${v}`, {
          ...where,
          ...lineOf(r),
          column: t.columns[c] ?? c + 1,
        });
      }
      mean[c] = (mean[c] as number) + v;
    }
  }
  for (let c = 0; c < d; c++) mean[c] = (mean[c] as number) / Math.max(1, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < d; c++) {
      const dv = (t.data[r * d + c] as number) - (mean[c] as number);
      std[c] = (std[c] as number) + dv * dv;
    }
  }
  for (let c = 0; c < d; c++) {
    const s = Math.sqrt((std[c] as number) / Math.max(1, rows - 1));
    std[c] = s > 1e-12 ? s : 1;
  }
  const n = join?.n ?? rows;
  const x = new Float32Array(n * d);
  for (let p = 0; p < n; p++) {
    const r = join === undefined ? p : (join.rowOf[p] as number);
    if (r < 0) continue;
    for (let c = 0; c < d; c++) {
      x[p * d + c] = ((t.data[r * d + c] as number) - (mean[c] as number)) / (std[c] as number);
    }
  }
  const present = join === undefined ? undefined : Uint8Array.from(join.rowOf, (r) => (r >= 0 ? 1 : 0));
  return {
    block: new DenseBlock(src.name, x, d, present),
    scaling: { name: src.name, per: 'column', mean, std },
  };
}
