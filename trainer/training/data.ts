/**
 * Turns in-memory modality tables (synthetic presets, positional CSV datasets) into training blocks:
 * checks that every modality has the same rows and only finite values, and standardises each column
 * (zero mean, unit variance over all rows).
 */
import { invalidArgument } from '../../common/errors.js';
import type { Table } from '../../common/matrix.js';
import type { RowBlock } from '../data/rows/block.js';
import type { Scaling } from '../data/rows/standardize.js';
import { tabularBlock } from '../data/rows/tabular.js';
import type { TrainData } from './train.js';

export interface ModalityTable {
  name: string;
  observations: Table;
  /** For error messages: the file the table came from. */
  file?: string;
}

export interface PreparedData extends TrainData {
  /** Per modality, the statistics used to standardise (stored with the run). */
  scaling: Scaling[];
}

export function prepareTrainingData(modalities: readonly ModalityTable[]): PreparedData {
  const first = modalities[0];
  if (first === undefined) throw invalidArgument('no modalities to train on');
  const n = first.observations.nRows;
  const blocks: RowBlock[] = [];
  const scaling: Scaling[] = [];
  for (const mod of modalities) {
    if (mod.observations.nRows !== n) {
      throw invalidArgument(
        `has ${mod.observations.nRows} rows but modality ${first.name} has ${n}: every modality needs one row per sample`,
        { file: mod.file ?? mod.name },
      );
    }
    const b = tabularBlock({
      name: mod.name,
      table: mod.observations,
      ...(mod.file === undefined ? {} : { file: mod.file }),
    });
    blocks.push(b.block);
    scaling.push(b.scaling);
  }
  return { n, blocks, scaling };
}
