import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readKeyedCsv } from '../../../../../common/csv.js';
import { decodeImageFile } from '../../../../../trainer/data/formats/image.js';
import { readNpy } from '../../../../../trainer/data/formats/npy.js';
import { readParquetTable } from '../../../../../trainer/data/formats/parquet.js';
import { readManifest } from '../../../../../trainer/data/manifest.js';
import { writePhenotypeCohort } from '../../../../../trainer/data/phenotype/write.js';
import { errorOf } from '../../../../helpers/errors.js';
import { tempDir } from '../../../../helpers/tmp.js';

const N = 40;
const S = 24;

function listFiles(dir: string): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => {
      const p = join(d, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  return walk(dir)
    .map((p) => relative(dir, p))
    .sort();
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

describe('phenotype cohort files', () => {
  const root = tempDir('crl-phenotype-formats-');
  const npyDir = join(root, 'npy');
  const pngDir = join(root, 'png');

  beforeAll(async () => {
    await writePhenotypeCohort(npyDir, { n: N, seed: 5, imageSize: S, nights: 2 });
    await writePhenotypeCohort(pngDir, {
      n: N,
      seed: 5,
      imageSize: S,
      nights: 2,
      imageFormat: 'png',
      tabularFormat: 'parquet',
    });
  });

  it('is byte for byte the same for the same seed, and differs for another seed', async () => {
    const again = join(root, 'again');
    const other = join(root, 'other');
    await writePhenotypeCohort(again, { n: N, seed: 5, imageSize: S, nights: 2 });
    await writePhenotypeCohort(other, { n: N, seed: 6, imageSize: S, nights: 2 });
    const files = listFiles(npyDir);
    expect(listFiles(again)).toEqual(files);
    for (const f of files)
      expect(readFileSync(join(again, f)).equals(readFileSync(join(npyDir, f))), f).toBe(true);
    for (const f of ['fundus_right.npy', 'sleep.npy', 'blood_tests.csv', 'truth/latents.csv']) {
      expect(readFileSync(join(other, f)).equals(readFileSync(join(npyDir, f))), f).toBe(false);
    }
    // The designed graph does not depend on the seed.
    expect(readFileSync(join(other, 'truth/analysis-graph.json'), 'utf8')).toBe(
      readFileSync(join(npyDir, 'truth/analysis-graph.json'), 'utf8'),
    );
  });

  it('keeps the present participants’ data when the missing fraction changes', async () => {
    const full = join(root, 'full');
    await writePhenotypeCohort(full, { n: N, seed: 5, imageSize: S, nights: 2, missing: 0 });
    const ids = lines(join(npyDir, 'sleep-ids.txt'));
    expect(lines(join(full, 'sleep-ids.txt'))).toHaveLength(N);
    const all = readNpy(join(full, 'sleep.npy')).data;
    const some = readNpy(join(npyDir, 'sleep.npy')).data;
    const row = 64 * 3;
    ids.forEach((id, r) => {
      const at = Number(id.slice(1)) - 1;
      expect(Array.from(some.subarray(r * row, (r + 1) * row))).toEqual(
        Array.from(all.subarray(at * row, (at + 1) * row)),
      );
    });
    expect(
      readFileSync(join(full, 'fundus_right.npy')).equals(readFileSync(join(npyDir, 'fundus_right.npy'))),
    ).toBe(true);
  });

  it('writes the documented layout; the sleep length follows the nights', () => {
    expect(listFiles(npyDir)).toEqual([
      'blood_tests.csv',
      'dataset.json',
      'fundus_left-ids.txt',
      'fundus_left.npy',
      'fundus_right-ids.txt',
      'fundus_right.npy',
      'participants.txt',
      'phenotypes.csv',
      'sleep-ids.txt',
      'sleep.npy',
      'truth/analysis-graph.json',
      'truth/graph.json',
      'truth/latents.csv',
    ]);
    const m = readManifest(npyDir);
    const sleep = m.modalities.find((x) => x.name === 'sleep');
    expect(sleep).toMatchObject({ kind: 'timeseries', length: 64, channels: 3, ids: 'sleep-ids.txt' });
    expect(readNpy(join(npyDir, 'sleep.npy')).header.shape).toEqual([N - 2, 64, 3]);
  });

  it('writes one PNG per present participant that decodes to the same pixels as the npy rows', () => {
    const m = readManifest(pngDir);
    expect(m.modalities[0]).toMatchObject({ name: 'fundus_right', format: 'png', path: 'fundus_right' });
    expect(m.modalities[0]).not.toHaveProperty('ids');
    const participants = lines(join(pngDir, 'participants.txt'));
    expect(readdirSync(join(pngDir, 'fundus_right')).sort()).toEqual(participants.map((id) => `${id}.png`));
    const leftIds = lines(join(npyDir, 'fundus_left-ids.txt'));
    expect(readdirSync(join(pngDir, 'fundus_left')).sort()).toEqual(leftIds.map((id) => `${id}.png`));
    expect(existsSync(join(pngDir, 'fundus_right.npy'))).toBe(false);

    const shape = { height: S, width: S, channels: 3 };
    const right = readNpy(join(npyDir, 'fundus_right.npy')).data;
    const left = readNpy(join(npyDir, 'fundus_left.npy')).data;
    for (const r of [0, 17, N - 1]) {
      const img = decodeImageFile(join(pngDir, 'fundus_right', `${participants[r]}.png`), shape);
      expect(Array.from(img.data)).toEqual(Array.from(right.subarray(r * S * S * 3, (r + 1) * S * S * 3)));
    }
    const r = leftIds.length - 1;
    const img = decodeImageFile(join(pngDir, 'fundus_left', `${leftIds[r]}.png`), shape);
    expect(Array.from(img.data)).toEqual(Array.from(left.subarray(r * S * S * 3, (r + 1) * S * S * 3)));
  });

  it('writes the blood tests as Parquet with the same values as the CSV', async () => {
    const m = readManifest(pngDir);
    expect(m.modalities[3]).toMatchObject({
      name: 'blood_tests',
      format: 'parquet',
      path: 'blood_tests.parquet',
      dims: 10,
      id_column: 'participant_id',
    });
    const pq = await readParquetTable(join(pngDir, 'blood_tests.parquet'), { idColumn: 'participant_id' });
    const csv = readKeyedCsv(join(npyDir, 'blood_tests.csv'), 'participant_id');
    expect(pq.ids).toEqual(csv.ids);
    expect(pq.table.columns).toEqual(csv.table.columns);
    expect(Array.from(pq.table.data)).toEqual(Array.from(csv.table.data));
  });

  it('refuses bad options and an existing directory without overwrite', async () => {
    await expect(writePhenotypeCohort(join(root, 'bad'), { n: 0, seed: 1 })).rejects.toThrow(/n must be/);
    await expect(writePhenotypeCohort(join(root, 'bad'), { n: 10, seed: 1, missing: 0.5 })).rejects.toThrow(
      /missing must be/,
    );
    await expect(writePhenotypeCohort(join(root, 'bad'), { n: 10, seed: 1, imageSize: 8 })).rejects.toThrow(
      /imageSize/,
    );
    expect(existsSync(join(root, 'bad'))).toBe(false);

    const taken = join(root, 'taken');
    mkdirSync(taken);
    writeFileSync(join(taken, 'keep.txt'), 'x');
    const err = await writePhenotypeCohort(taken, { n: 10, seed: 1 }).catch((e: unknown) => e);
    expect(
      errorOf(() => {
        throw err;
      }).code,
    ).toBe('ALREADY_EXISTS');
    expect(listFiles(taken)).toEqual(['keep.txt']);
    await writePhenotypeCohort(taken, { n: 10, seed: 1, missing: 0, overwrite: true });
    expect(lines(join(taken, 'sleep-ids.txt'))).toHaveLength(10);
    expect(existsSync(join(taken, 'keep.txt'))).toBe(false);
  });
});
