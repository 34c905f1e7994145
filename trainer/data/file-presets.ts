/**
 * Presets that are written as dataset directories (their observations are images, series or keyed
 * tables, so they are files, not in-memory tables): the variant MNIST datasets of paper §6.2 and
 * the synthetic phenotype cohort. `crl data generate --preset NAME` writes them; training reads
 * the directory with `--data`.
 */
import { invalidArgument, type CrlError } from '../../common/errors.js';
import type { DatasetManifest } from './manifest.js';
import { writeMnistDataset } from './mnist/write.js';
import { writePhenotypeCohort } from './phenotype/write.js';

export interface FilePresetOptions {
  n?: number;
  seed: number;
  overwrite?: boolean;
  imageFormat?: 'npy' | 'png';
  tabularFormat?: 'csv' | 'parquet';
  /** Fraction of participants lacking a modality (phenotype). */
  missing?: number;
  imageSize?: number;
}

export interface FilePreset {
  description: string;
  defaultN: number;
  write(out: string, o: FilePresetOptions): Promise<DatasetManifest>;
}

function mnistPreset(version: 'v1' | 'v2', description: string): FilePreset {
  return {
    description,
    defaultN: 10_000,
    write: (out, o) =>
      Promise.resolve(
        writeMnistDataset(out, { version, n: o.n ?? 10_000, seed: o.seed, overwrite: o.overwrite ?? false }),
      ),
  };
}

export const FILE_PRESETS: Readonly<Record<string, FilePreset>> = {
  'mnist-v2': mnistPreset(
    'v2',
    'coloured MNIST digit (horizontal position -> transparency) and Fashion-MNIST item (vertical position -> grayscale); digit position -> item position (paper §6.2, camera-ready)',
  ),
  'mnist-v1': mnistPreset(
    'v1',
    'coloured MNIST digit (class -> colour) and Fashion-MNIST item (class -> rotation); digit class -> item class (paper §6.2, v1)',
  ),
  phenotype: {
    description:
      'synthetic phenotype cohort: fundus images of both eyes, multi-night sleep series, blood tests, keyed by participant ID with missing modalities, and phenotypes.csv for crl analyze (paper §6.3)',
    defaultN: 10_000,
    write: (out, o) =>
      writePhenotypeCohort(out, {
        n: o.n ?? 10_000,
        seed: o.seed,
        overwrite: o.overwrite ?? false,
        ...(o.imageFormat === undefined ? {} : { imageFormat: o.imageFormat }),
        ...(o.tabularFormat === undefined ? {} : { tabularFormat: o.tabularFormat }),
        ...(o.missing === undefined ? {} : { missing: o.missing }),
        ...(o.imageSize === undefined ? {} : { imageSize: o.imageSize }),
      }),
  },
};

/** The error for a file preset given where a generated one is expected (`--preset`). */
export function filePresetHint(name: string, field: string): CrlError | undefined {
  if (FILE_PRESETS[name] === undefined) return undefined;
  return invalidArgument(
    `preset "${name}" is written as files: run "crl data generate --preset ${name} --out DIR", then train with the dataset directory DIR`,
    { field },
  );
}
