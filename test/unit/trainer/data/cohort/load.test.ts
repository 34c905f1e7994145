/**
 * A small keyed cohort made in the test: a tabular CSV in shuffled order, a PNG per participant
 * with one participant missing, and a time-series NPY with an IDs file. Every value encodes its
 * participant, so a misaligned row shows up as a wrong number.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CrlError } from '../../../../../common/errors.js';
import { loadCohort } from '../../../../../trainer/data/cohort/load.js';
import { encodePng } from '../../../../../trainer/data/formats/image.js';
import { writeNpy } from '../../../../../trainer/data/formats/npy.js';
import { tempDir } from '../../../../helpers/tmp.js';

const IDS = ['p01', 'p02', 'p03', 'p04', 'p05', 'p06'];
/** p04 has no image; p06 has no series. */
const NO_IMAGE = 'p04';
const NO_SERIES = 'p06';
const H = 4;
const W = 3;
const T = 5;

function participant(id: string): number {
  return Number(id.slice(1));
}

function manifest(over: Record<string, unknown> = {}, modalities?: unknown[]): Record<string, unknown> {
  return {
    format: 'crl-dataset',
    version: 1,
    name: 'tiny',
    participants: 'participants.txt',
    modalities: modalities ?? [
      { name: 'labs', kind: 'tabular', path: 'labs.csv', dims: 2, id_column: 'participant_id', latents: 1 },
      {
        name: 'eye',
        kind: 'image',
        format: 'png',
        path: 'eye',
        height: H,
        width: W,
        channels: 1,
        latents: 1,
      },
      {
        name: 'sleep',
        kind: 'timeseries',
        format: 'npy',
        path: 'sleep.npy',
        ids: 'sleep-ids.txt',
        length: T,
        channels: 2,
        latents: 1,
      },
    ],
    ...over,
  };
}

function writeCohort(dir: string, m = manifest()): void {
  mkdirSync(join(dir, 'eye'), { recursive: true });
  writeFileSync(join(dir, 'participants.txt'), IDS.join('\n') + '\n');
  // Shuffled row order: the join, not the position, must line the rows up.
  const labsOrder = ['p03', 'p01', 'p06', 'p02', 'p05', 'p04'];
  writeFileSync(
    join(dir, 'labs.csv'),
    ['participant_id,a,b', ...labsOrder.map((id) => `${id},${participant(id)},${-2 * participant(id)}`)].join(
      '\n',
    ) + '\n',
  );
  for (const id of IDS) {
    if (id === NO_IMAGE) continue;
    const data = new Uint8Array(H * W).fill(10 * participant(id));
    encodePng(join(dir, 'eye', `${id}.png`), { height: H, width: W, channels: 1, data });
  }
  const seriesIds = ['p05', 'p04', 'p03', 'p02', 'p01'];
  const series = new Float32Array(seriesIds.length * T * 2);
  seriesIds.forEach((id, r) => series.fill(participant(id), r * T * 2, (r + 1) * T * 2));
  writeNpy(join(dir, 'sleep.npy'), series, [seriesIds.length, T, 2], '<f4');
  writeFileSync(join(dir, 'sleep-ids.txt'), seriesIds.join('\n') + '\n');
  writeFileSync(join(dir, 'dataset.json'), JSON.stringify(m));
}

async function failure(p: Promise<unknown>): Promise<CrlError> {
  try {
    await p;
  } catch (err) {
    return err as CrlError;
  }
  throw new Error('expected the load to fail');
}

describe('cohort loading', () => {
  const root = tempDir();

  it('joins every modality by participant ID and masks the missing ones', async () => {
    const dir = join(root, 'ok');
    writeCohort(dir);
    const c = await loadCohort(dir);
    try {
      expect(c.participants).toEqual(IDS);
      expect(c.n).toBe(6);
      expect(c.specs.map((s) => [s.kind, s.dims, s.shape])).toEqual([
        ['tabular', 2, undefined],
        ['image', H * W, [H, W, 1]],
        ['timeseries', T * 2, [T, 2]],
      ]);
      expect(c.presence[0]).toBeUndefined();
      expect([...(c.presence[1] as Uint8Array)]).toEqual(IDS.map((id) => (id === NO_IMAGE ? 0 : 1)));
      expect([...(c.presence[2] as Uint8Array)]).toEqual(IDS.map((id) => (id === NO_SERIES ? 0 : 1)));

      const all = Int32Array.from(IDS, (_, i) => i);
      const [labs, eye, sleep] = c.blocks.map((b) => b.read(all));
      // Standardised values stay monotone in the participant number when the rows line up.
      const col = (x: Float32Array, w: number, j: number) => IDS.map((_, i) => x[i * w + j] as number);
      const a = col(labs as Float32Array, 2, 0);
      expect([...a].sort((p, q) => p - q)).toEqual(a);
      const sa = c.scaling[0]!;
      expect(sa.per).toBe('column');
      expect(sa.mean[0]).toBeCloseTo(3.5, 10);
      // Image: one channel statistic over the five present participants (10, 20, 30, 50, 60).
      const se = c.scaling[1]!;
      expect(se.per).toBe('channel');
      expect(se.mean).toEqual([34]);
      IDS.forEach((id, i) => {
        const v = (eye as Float32Array)[i * H * W] as number;
        if (id === NO_IMAGE) expect(v).toBe(0);
        else expect(v).toBeCloseTo((10 * participant(id) - 34) / (se.std[0] as number), 5);
        const s = (sleep as Float32Array)[i * T * 2] as number;
        const ss = c.scaling[2]!;
        if (id === NO_SERIES) expect(s).toBe(0);
        else expect(s).toBeCloseTo((participant(id) - (ss.mean[0] as number)) / (ss.std[0] as number), 5);
      });
    } finally {
      c.blocks.forEach((b) => b.close());
    }
  });

  it('reads only the modalities asked for, yet knows who lacks the others', async () => {
    const dir = join(root, 'part');
    writeCohort(dir);
    const c = await loadCohort(dir, { read: ['sleep'] });
    try {
      expect(c.blocks.map((b) => b.name)).toEqual(['sleep']);
      expect([...(c.presence[1] as Uint8Array)]).toEqual(IDS.map((id) => (id === NO_IMAGE ? 0 : 1)));
    } finally {
      c.blocks.forEach((b) => b.close());
    }
  });

  it('names the file and participant of an image of the wrong size', async () => {
    const dir = join(root, 'bad-image');
    writeCohort(dir);
    encodePng(join(dir, 'eye', 'p02.png'), {
      height: H + 1,
      width: W,
      channels: 1,
      data: new Uint8Array((H + 1) * W),
    });
    const e = await failure(loadCohort(dir));
    expect(e.message).toMatch(/p02\.png/);
    expect(e.message).toMatch(/5x3x1, the manifest says 4x3x1/);
  });

  it('rejects a time series of the wrong length, naming the file', async () => {
    const dir = join(root, 'bad-series');
    writeCohort(dir);
    writeNpy(join(dir, 'sleep.npy'), new Float32Array(5 * (T + 1) * 2), [5, T + 1, 2], '<f4');
    const e = await failure(loadCohort(dir));
    expect(e.message).toMatch(/sleep\.npy/);
    expect(e.message).toMatch(/\[6, 2\].*\[5, 2\]/);
  });

  it('rejects duplicated IDs and an IDs file that does not fit its array', async () => {
    const dup = join(root, 'dup');
    writeCohort(dup);
    writeFileSync(join(dup, 'sleep-ids.txt'), ['p05', 'p04', 'p03', 'p02', 'p05'].join('\n'));
    const e = await failure(loadCohort(dup));
    expect(e.message).toMatch(
      /sleep-ids\.txt.*participant p05 appears twice in modality sleep \(rows 1 and 5\)/,
    );
    const short = join(root, 'short');
    writeCohort(short);
    writeFileSync(join(short, 'sleep-ids.txt'), ['p05', 'p04', 'p03', 'p02'].join('\n'));
    const e2 = await failure(loadCohort(short));
    expect(e2.message).toMatch(/lists 4 participant IDs for the 5 rows of sleep\.npy/);
  });

  it('rejects a listed participant with no data and a modality file that is missing', async () => {
    const ghost = join(root, 'ghost');
    writeCohort(ghost);
    writeFileSync(join(ghost, 'participants.txt'), [...IDS, 'p99'].join('\n'));
    expect((await failure(loadCohort(ghost))).message).toMatch(
      /participants\.txt.*participant p99 has no data/,
    );
    const missing = join(root, 'missing');
    writeCohort(
      missing,
      manifest({}, [
        { name: 'labs', kind: 'tabular', path: 'nope.csv', dims: 2, id_column: 'participant_id', latents: 1 },
      ]),
    );
    expect((await failure(loadCohort(missing))).message).toMatch(
      /nope\.csv: modality labs's file does not exist/,
    );
  });

  it('refuses a manifest that mixes positional and keyed modalities', async () => {
    const dir = join(root, 'mixed');
    writeCohort(
      dir,
      manifest({ n: 6 }, [
        { name: 'labs', kind: 'tabular', path: 'labs.csv', dims: 2, id_column: 'participant_id' },
        { name: 'sleep', kind: 'timeseries', format: 'npy', path: 'sleep.npy', length: T, channels: 2 },
      ]),
    );
    const e = await failure(loadCohort(dir));
    expect(e.message).toMatch(/modalities\[1\].*matched by position but others by participant ID/);
  });

  it('reads one series file per participant, and names a participant whose file has the wrong shape', async () => {
    const dir = join(root, 'per-participant');
    const m = manifest({}, [
      { name: 'labs', kind: 'tabular', path: 'labs.csv', dims: 2, id_column: 'participant_id', latents: 1 },
      {
        name: 'sleep',
        kind: 'timeseries',
        format: 'npy',
        layout: 'per-participant',
        path: 'series',
        length: T,
        channels: 2,
        latents: 1,
      },
    ]);
    writeCohort(dir, m);
    mkdirSync(join(dir, 'series'));
    for (const id of ['p01', 'p03', 'p05']) {
      writeNpy(
        join(dir, 'series', `${id}.npy`),
        new Float32Array(T * 2).fill(participant(id)),
        [T, 2],
        '<f4',
      );
    }
    const c = await loadCohort(dir);
    try {
      expect([...(c.presence[1] as Uint8Array)]).toEqual([1, 0, 1, 0, 1, 0]);
      const x = c.blocks[1]!.read(Int32Array.from([0, 1, 2, 4]));
      const ss = c.scaling[1]!;
      const z = (v: number) => (v - ss.mean[0]!) / ss.std[0]!;
      expect([x[0], x[T * 2], x[2 * T * 2], x[3 * T * 2]].map((v) => Number(v!.toFixed(5)))).toEqual(
        [z(1), 0, z(3), z(5)].map((v) => Number(v.toFixed(5))),
      );
    } finally {
      c.blocks.forEach((b) => b.close());
    }
    writeNpy(join(dir, 'series', 'p03.npy'), new Float32Array(T * 3), [T, 3], '<f4');
    const e = await failure(loadCohort(dir));
    expect(e.message).toMatch(/p03\.npy: participant p03: series of shape \[5, 3\]/);
  });
});
