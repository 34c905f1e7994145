/**
 * Writes a variant-MNIST dataset directory (`mnist-v1` or `mnist-v2`, see variant-v1.ts and
 * variant-v2.ts for the latents, mechanisms and rendering):
 *
 *   dataset.json          manifest: two image modalities matched by position (top-level n)
 *   digit.npy             uint8 [n, 28, 28, 3], the coloured digits
 *   fashion.npy           uint8 [n, 28, 28, 1], the fashion items
 *   truth/latents.csv     z1_1, z1_2, z2_1, z2_2 (named as the graph's nodes)
 *   truth/graph.json      the designed DAG over those latents, with node labels
 *   truth/exogenous.csv   v2 only: hue and classes (eta<m>_<j>)
 *   truth/sources.csv     digit_index, fashion_index: the source image of each row (see sources.ts
 *                         for the index order), so any row can be re-rendered or audited
 *
 * Rows are rendered in chunks and streamed to the .npy files, so memory is the sources (55 MB)
 * plus a few numbers per row whatever n is. Everything is staged and moved into place at the end.
 * One seed gives the same bytes (no timestamps; provenance names sources by content hash, not
 * path), and the first n rows of a larger dataset with the same seed are the dataset of size n.
 *
 * The manifest's per-modality `exogenous` (the size the model fits, not the truth's) is 8: the
 * handwriting or garment shape must be reconstructed from somewhere, and the few recorded
 * exogenous columns do not describe it.
 */
import { join } from 'node:path';
import { formatCsv } from '../../../common/csv.js';
import { invalidArgument } from '../../../common/errors.js';
import { formatGraph, type Graph } from '../../../common/graph.js';
import { makeTable } from '../../../common/matrix.js';
import { StagedDirectory } from '../../../common/output-dir.js';
import { NpyWriter } from '../formats/npy.js';
import { MANIFEST_FILE, parseManifest, type DatasetManifest } from '../manifest.js';
import { IMAGE_PIXELS, IMAGE_SIDE, loadFashionMnist, loadMnistDigits, type ImageSet } from './sources.js';
import { MNIST_V1 } from './variant-v1.js';
import { MNIST_V2 } from './variant-v2.js';

export const MNIST_DEFAULT_N = 10_000;
/** Exogenous size the model fits per modality by default (see the file header). */
export const MNIST_EXOGENOUS_FIT = 8;
export const DIGIT_CHANNELS = 3;

/** What one row's renderer reports besides the pixels it wrote. */
export interface RowDraw {
  /** In the order of the variant's latents, modality by modality. */
  latents: number[];
  exogenous: number[];
  digitIndex: number;
  fashionIndex: number;
}

/** Renders the next row into the two buffers (28*28*3 and 28*28*fashionChannels values). */
export type RowRenderer = (digitOut: Uint8Array, fashionOut: Uint8Array) => RowDraw;

export interface MnistVariant {
  readonly version: 'v1' | 'v2';
  readonly fashionChannels: number;
  /** Truth latent columns of the digit and the fashion modality. */
  readonly latents: readonly [readonly string[], readonly string[]];
  readonly exogenous: readonly [readonly string[], readonly string[]];
  readonly graph: Graph;
  /** Human-readable latents, mechanisms and rendering, copied into the manifest's provenance. */
  readonly design: Readonly<Record<string, unknown>>;
  rows(seed: number, digits: ImageSet, fashion: ImageSet): RowRenderer;
}

export const MNIST_VARIANTS: Readonly<Record<'v1' | 'v2', MnistVariant>> = { v1: MNIST_V1, v2: MNIST_V2 };

export interface MnistOptions {
  version: 'v1' | 'v2';
  /** Rows; default MNIST_DEFAULT_N. */
  n?: number;
  seed: number;
  overwrite?: boolean;
}

/** Rows rendered between appends: 500 rows are 1.2 MB of digits, enough to amortise the writes. */
const CHUNK_ROWS = 500;

export function writeMnistDataset(outDir: string, o: MnistOptions): DatasetManifest {
  const variant = MNIST_VARIANTS[o.version];
  if (variant === undefined) {
    throw invalidArgument(`unknown variant ${JSON.stringify(o.version)} (expected v1 or v2)`, {
      field: 'version',
    });
  }
  const n = o.n ?? MNIST_DEFAULT_N;
  if (!Number.isSafeInteger(n) || n < 1)
    throw invalidArgument(`must be a positive integer, got ${n}`, { field: 'n' });
  if (!Number.isSafeInteger(o.seed))
    throw invalidArgument(`must be an integer, got ${o.seed}`, { field: 'seed' });

  const digits = loadMnistDigits();
  const fashion = loadFashionMnist('train');
  const manifest = mnistManifest(variant, n, o.seed, digits, fashion);
  // Refuses a malformed manifest before any pixel is rendered.
  parseManifest(manifest);

  const dir = StagedDirectory.open(outDir, { overwrite: o.overwrite ?? false, flag: '--out' });
  const writers: NpyWriter[] = [];
  try {
    const digitSize = IMAGE_PIXELS * DIGIT_CHANNELS;
    const fashionSize = IMAGE_PIXELS * variant.fashionChannels;
    const digitWriter = NpyWriter.create(join(dir.staging, 'digit.npy'), '|u1', [
      IMAGE_SIDE,
      IMAGE_SIDE,
      DIGIT_CHANNELS,
    ]);
    writers.push(digitWriter);
    const fashionWriter = NpyWriter.create(join(dir.staging, 'fashion.npy'), '|u1', [
      IMAGE_SIDE,
      IMAGE_SIDE,
      variant.fashionChannels,
    ]);
    writers.push(fashionWriter);

    const latentColumns = [...variant.latents[0], ...variant.latents[1]];
    const exogenousColumns = [...variant.exogenous[0], ...variant.exogenous[1]];
    const latents = new Float64Array(n * latentColumns.length);
    const exogenous = new Float64Array(n * exogenousColumns.length);
    const sources = new Float64Array(n * 2);
    const digitBuf = new Uint8Array(CHUNK_ROWS * digitSize);
    const fashionBuf = new Uint8Array(CHUNK_ROWS * fashionSize);
    const render = variant.rows(o.seed, digits, fashion);

    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - start);
      for (let r = 0; r < rows; r++) {
        const row = start + r;
        const draw = render(
          digitBuf.subarray(r * digitSize, (r + 1) * digitSize),
          fashionBuf.subarray(r * fashionSize, (r + 1) * fashionSize),
        );
        latents.set(draw.latents, row * latentColumns.length);
        exogenous.set(draw.exogenous, row * exogenousColumns.length);
        sources[2 * row] = draw.digitIndex;
        sources[2 * row + 1] = draw.fashionIndex;
      }
      digitWriter.append(digitBuf.subarray(0, rows * digitSize));
      fashionWriter.append(fashionBuf.subarray(0, rows * fashionSize));
    }
    digitWriter.close();
    fashionWriter.close();

    dir.write('truth/latents.csv', formatCsv(makeTable(latentColumns, n, latents)));
    if (exogenousColumns.length > 0) {
      dir.write('truth/exogenous.csv', formatCsv(makeTable(exogenousColumns, n, exogenous)));
    }
    dir.write('truth/sources.csv', formatCsv(makeTable(['digit_index', 'fashion_index'], n, sources)));
    dir.write('truth/graph.json', formatGraph(variant.graph));
    dir.write(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
    dir.commit();
  } catch (err) {
    for (const w of writers) w.abort();
    dir.abort();
    throw err;
  }
  return manifest;
}

export function mnistManifest(
  variant: MnistVariant,
  n: number,
  seed: number,
  digits: ImageSet,
  fashion: ImageSet,
): DatasetManifest {
  const hasExogenous = variant.exogenous.some((cols) => cols.length > 0);
  const modality = (name: string, channels: number, m: 0 | 1) => ({
    name,
    kind: 'image' as const,
    path: `${name}.npy`,
    format: 'npy' as const,
    height: IMAGE_SIDE,
    width: IMAGE_SIDE,
    channels,
    latents: variant.latents[m].length,
    exogenous: MNIST_EXOGENOUS_FIT,
    truth: { latents: [...variant.latents[m]], exogenous: [...variant.exogenous[m]] },
  });
  return {
    format: 'crl-dataset',
    version: 1,
    name: `mnist-${variant.version}`,
    n,
    modalities: [modality('digit', DIGIT_CHANNELS, 0), modality('fashion', variant.fashionChannels, 1)],
    truth: {
      latents: 'truth/latents.csv',
      graph: 'truth/graph.json',
      ...(hasExogenous ? { exogenous: 'truth/exogenous.csv' } : {}),
    },
    generator: {
      kind: 'mnist',
      version: variant.version,
      seed,
      n,
      sources: { digits: digits.provenance, fashion: fashion.provenance, rows: 'truth/sources.csv' },
      ...variant.design,
    },
  };
}
