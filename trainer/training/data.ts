/**
 * Turns loaded modality tables into training blocks: checks that every modality has the same rows
 * and only finite values, and standardises each column (zero mean, unit variance over all rows).
 */
import { invalidArgument } from '../../common/errors.js';
import type { Table } from '../../common/matrix.js';
import type { TrainData } from './train.js';

export interface ModalityTable {
  name: string;
  observations: Table;
  /** For error messages: the file the table came from. */
  file?: string;
}

export interface PreparedData extends TrainData {
  /** Per modality, the column means and standard deviations used to standardise. */
  scaling: { name: string; mean: number[]; std: number[] }[];
}

export function prepareTrainingData(modalities: readonly ModalityTable[]): PreparedData {
  const first = modalities[0];
  if (first === undefined) throw invalidArgument('no modalities to train on');
  const n = first.observations.nRows;
  const xs: Float32Array[] = [];
  const scaling: PreparedData['scaling'] = [];
  for (const mod of modalities) {
    const t = mod.observations;
    const where = { file: mod.file ?? mod.name };
    if (t.nRows !== n) {
      throw invalidArgument(
        `has ${t.nRows} rows but modality ${first.name} has ${n}: every modality needs one row per sample`,
        where,
      );
    }
    const d = t.columns.length;
    const mean = new Array<number>(d).fill(0);
    const std = new Array<number>(d).fill(0);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < d; c++) {
        const v = t.data[r * d + c] as number;
        if (!Number.isFinite(v)) {
          throw invalidArgument(`non-finite value ${v}`, {
            ...where,
            line: r + 2,
            column: t.columns[c] ?? c + 1,
          });
        }
        mean[c] = (mean[c] as number) + v;
      }
    }
    for (let c = 0; c < d; c++) mean[c] = (mean[c] as number) / n;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < d; c++) {
        const dv = (t.data[r * d + c] as number) - (mean[c] as number);
        std[c] = (std[c] as number) + dv * dv;
      }
    }
    for (let c = 0; c < d; c++) {
      const s = Math.sqrt((std[c] as number) / Math.max(1, n - 1));
      std[c] = s > 1e-12 ? s : 1;
    }
    const x = new Float32Array(n * d);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < d; c++) {
        x[r * d + c] = ((t.data[r * d + c] as number) - (mean[c] as number)) / (std[c] as number);
      }
    }
    xs.push(x);
    scaling.push({ name: mod.name, mean, std });
  }
  return { n, xs, scaling };
}
