/**
 * Throughput of the cohort file readers, in rows per second: a 100,000 x 20 table as CSV (the
 * keyed reader) and as Parquet; 5,000 PNGs of 32x32x3 decoded one file per row into a float batch;
 * a 20,000 x 32 x 32 x 3 uint8 NPY read in batches of 256, in random order and sequentially. The
 * files are built in a temporary directory (not timed) and removed. The NPY file was just written,
 * so its reads come from the page cache: these are decode and syscall costs, not disk speed.
 * One warm-up run, then the timed repeats back to back; medians; prints one JSON object, progress
 * on stderr.
 *
 *   npm run bench:loaders [-- --rows 100000 --images 5000 --npy-rows 20000 --repeats 3]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatCsv, readKeyedCsv } from '../common/csv.js';
import { makeTable } from '../common/matrix.js';
import { Rng } from '../common/random.js';
import { decodeImageInto, encodePng, type ImageShape } from '../trainer/data/formats/image.js';
import { NpyRows, NpyWriter } from '../trainer/data/formats/npy.js';
import { readParquetTable, writeParquetTable } from '../trainer/data/formats/parquet.js';
import { positiveInt } from './args.js';
import { timedAsync } from './timing.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    images: { type: 'string', default: '5000' },
    'npy-rows': { type: 'string', default: '20000' },
    repeats: { type: 'string', default: '3' },
  },
});

const ROWS = positiveInt('rows', flags.rows);
const IMAGES = positiveInt('images', flags.images);
const NPY_ROWS = positiveInt('npy-rows', flags['npy-rows']);
const REPEATS = positiveInt('repeats', flags.repeats);
const COLUMNS = 20;
const BATCH = 256;
const IMAGE: ImageShape = { height: 32, width: 32, channels: 3 };
const IMAGE_SIZE = IMAGE.height * IMAGE.width * IMAGE.channels;

const progress = (msg: string) => process.stderr.write(`[loaders] ${msg}\n`);
const mb = (file: string) => Math.round((statSync(file).size / 2 ** 20) * 10) / 10;

interface Case {
  case: string;
  rows: number;
  rows_per_s_median: number;
  /** Rows per second of each timed repeat, in the order run. */
  repeats: number[];
  median_ms: number;
  file_mb?: number;
}

/** Times `fn` with the shared helper, also keeping each timed run's rows per second. */
async function measure(name: string, rows: number, fn: () => unknown, fileMb?: number): Promise<Case> {
  const ms: number[] = [];
  const { timing } = await timedAsync(REPEATS, async () => {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  });
  const perS = (t: number) => Math.round(rows / (t / 1000));
  const timedMs = ms.slice(1); // the first entry is the helper's warm-up
  // From the unrounded times: the helper rounds to 0.1 ms, too coarse for the fast cases.
  const sorted = [...timedMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const result: Case = {
    case: name,
    rows,
    rows_per_s_median: perS(medianMs),
    repeats: timedMs.map(perS),
    median_ms: timing.median_ms,
    ...(fileMb === undefined ? {} : { file_mb: fileMb }),
  };
  progress(`${name}: ${result.rows_per_s_median} rows/s (median of ${REPEATS})`);
  return result;
}

/** A smooth random image: a few low-frequency waves per channel, like a blurred photograph. */
function smoothImage(rng: Rng, out: Uint8Array, at: number): void {
  const { height: h, width: w, channels: c } = IMAGE;
  const waves = Array.from({ length: 3 * c }, () => ({
    fx: rng.between(0, 0.3),
    fy: rng.between(0, 0.3),
    phase: rng.between(0, 2 * Math.PI),
  }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let v = 0;
        for (let j = 0; j < 3; j++) {
          const wv = waves[k * 3 + j]!;
          v += Math.sin(wv.fx * x + wv.fy * y + wv.phase);
        }
        out[at + (y * w + x) * c + k] = Math.round(127.5 + 42 * v);
      }
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crl-bench-loaders-'));
  try {
    const rng = new Rng('bench-loaders');

    progress(`writing a ${ROWS} x ${COLUMNS} table as CSV and Parquet`);
    const names = Array.from({ length: COLUMNS }, (_, j) => `x${j + 1}`);
    const values = Float64Array.from({ length: ROWS * COLUMNS }, () => rng.normal());
    // formatCsv writes numbers only; integer IDs read back as text through the keyed reader.
    const keyed = new Float64Array(ROWS * (COLUMNS + 1));
    for (let i = 0; i < ROWS; i++) {
      keyed[i * (COLUMNS + 1)] = i + 1;
      keyed.set(values.subarray(i * COLUMNS, (i + 1) * COLUMNS), i * (COLUMNS + 1) + 1);
    }
    const csv = join(dir, 'table.csv');
    writeFileSync(csv, formatCsv(makeTable(['participant_id', ...names], ROWS, keyed)));
    const parquet = join(dir, 'table.parquet');
    const ids = Array.from({ length: ROWS }, (_, i) => String(i + 1));
    writeParquetTable(parquet, { table: makeTable(names, ROWS, values), ids });

    progress(`writing ${IMAGES} PNGs of 32x32x3`);
    const pixels = new Uint8Array(IMAGE_SIZE);
    const pngs: string[] = [];
    for (let i = 0; i < IMAGES; i++) {
      smoothImage(rng, pixels, 0);
      const file = join(dir, 'png', `${String(i).padStart(6, '0')}.png`);
      encodePng(file, { ...IMAGE, data: pixels });
      pngs.push(file);
    }

    progress(`writing a ${NPY_ROWS} x 32 x 32 x 3 uint8 NPY`);
    const npy = join(dir, 'images.npy');
    const writer = NpyWriter.create(npy, '|u1', [IMAGE.height, IMAGE.width, IMAGE.channels]);
    const chunkRows = 500;
    const chunk = new Uint8Array(chunkRows * IMAGE_SIZE);
    for (let r = 0; r < NPY_ROWS; r += chunkRows) {
      const k = Math.min(chunkRows, NPY_ROWS - r);
      for (let i = 0; i < k; i++) smoothImage(rng, chunk, i * IMAGE_SIZE);
      writer.append(chunk.subarray(0, k * IMAGE_SIZE));
    }
    writer.close();

    const cases: Case[] = [];
    cases.push(await measure('csv', ROWS, () => readKeyedCsv(csv, 'participant_id'), mb(csv)));
    cases.push(
      await measure(
        'parquet',
        ROWS,
        () => readParquetTable(parquet, { idColumn: 'participant_id' }),
        mb(parquet),
      ),
    );

    const batch = new Float32Array(BATCH * IMAGE_SIZE);
    cases.push(
      await measure('png', IMAGES, () => {
        for (let i = 0; i < IMAGES; i++) decodeImageInto(pngs[i]!, IMAGE, batch, (i % BATCH) * IMAGE_SIZE);
      }),
    );

    const rows = NpyRows.open(npy);
    try {
      const order = Int32Array.from(rng.permutation(NPY_ROWS));
      const inOrder = Int32Array.from({ length: NPY_ROWS }, (_, i) => i);
      const readAll = (indices: Int32Array) => {
        for (let b = 0; b < indices.length; b += BATCH) rows.readRows(indices.subarray(b, b + BATCH), batch);
      };
      cases.push(await measure('npy_random', NPY_ROWS, () => readAll(order), mb(npy)));
      cases.push(await measure('npy_sequential', NPY_ROWS, () => readAll(inOrder), mb(npy)));
    } finally {
      rows.close();
    }

    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'loaders',
          node: process.version,
          settings: {
            rows: ROWS,
            columns: COLUMNS,
            images: IMAGES,
            npy_rows: NPY_ROWS,
            batch: BATCH,
            repeats: REPEATS,
          },
          cases,
          peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
