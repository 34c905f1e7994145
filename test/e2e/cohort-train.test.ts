/**
 * Training on a keyed cohort with images, series, a table and missing modalities: the run reports
 * every participant in the participants file's order, leaves blank exactly the latents of the
 * modalities a participant lacks, scores on the complete participants, and stores the scaling.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../cli/commands/train.js';
import { parseIdLines } from '../../trainer/data/cohort/join.js';
import { writePhenotypeCohort } from '../../trainer/data/phenotype/write.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('training on the phenotype cohort', () => {
  const root = tempDir();
  const data = join(root, 'cohort');
  const run = join(root, 'run');
  const N = 240;

  beforeAll(async () => {
    await writePhenotypeCohort(data, { n: N, seed: 4, imageSize: 16, nights: 1, missing: 0.1 });
    await runTraining({
      data,
      seed: 1,
      out: run,
      steps: 12,
      batch: 48,
      evalEvery: 6,
      backend: 'wasm',
      progress: { write: () => true },
    });
  }, 240_000);

  it('writes every participant, in order, with blanks exactly where a modality is missing', () => {
    const ids = parseIdLines(readFileSync(join(data, 'participants.txt'), 'utf8'), 'participants.txt');
    const noSleep = new Set(parseIdLines(readFileSync(join(data, 'sleep-ids.txt'), 'utf8'), 's'));
    const noLeft = new Set(parseIdLines(readFileSync(join(data, 'fundus_left-ids.txt'), 'utf8'), 'l'));
    const lines = readFileSync(join(run, 'latents.csv'), 'utf8').trim().split('\n');
    const header = (lines[0] as string).split(',');
    expect(header[0]).toBe('participant_id');
    expect(lines).toHaveLength(N + 1);
    const leftCols = header.flatMap((h, j) => (h.startsWith('z2_') ? [j] : []));
    const sleepCols = header.flatMap((h, j) => (h.startsWith('z3_') ? [j] : []));
    expect(leftCols.length).toBeGreaterThan(0);
    expect(sleepCols.length).toBeGreaterThan(0);
    let blanks = 0;
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(',');
      expect(cells[0]).toBe(ids[i]);
      const id = ids[i] as string;
      for (const j of leftCols) expect(cells[j] === '', `${id} z2`).toBe(!noLeft.has(id));
      for (const j of sleepCols) expect(cells[j] === '', `${id} z3`).toBe(!noSleep.has(id));
      blanks += cells.filter((c) => c === '').length;
    });
    expect(blanks).toBeGreaterThan(0);
  });

  it('scores on the complete participants and stores the standardisation', () => {
    const result = JSON.parse(readFileSync(join(run, 'result.json'), 'utf8')) as {
      mcc: number;
      data: { n: number; complete_participants: number; keyed_by: string };
    };
    const sleep = parseIdLines(readFileSync(join(data, 'sleep-ids.txt'), 'utf8'), 's');
    expect(result.data.n).toBe(N);
    expect(result.data.keyed_by).toBe('participant_id');
    expect(result.data.complete_participants).toBeLessThan(sleep.length);
    expect(result.data.complete_participants).toBeGreaterThan(N / 2);
    expect(result.mcc).toBeGreaterThan(0);
    const scaling = JSON.parse(readFileSync(join(run, 'scaling.json'), 'utf8')) as {
      name: string;
      per: string;
      mean: number[];
    }[];
    expect(scaling.map((s) => [s.name, s.per, s.mean.length])).toEqual([
      ['fundus_right', 'channel', 3],
      ['fundus_left', 'channel', 3],
      ['sleep', 'channel', 3],
      ['blood_tests', 'column', 10],
    ]);
  });

  it('feeds crl analyze, which keeps the complete participants and joins the phenotypes by ID', async () => {
    const out = join(root, 'analysis');
    const bk = join(root, 'bk.json');
    writeFileSync(
      bk,
      JSON.stringify({
        forbidden: [
          ['*', 'age'],
          ['*', 'sex'],
        ],
      }),
    );
    const r = await runCli([
      'analyze',
      '--run',
      run,
      '--tabular',
      join(data, 'phenotypes.csv'),
      '--background',
      bk,
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const analysis = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')) as {
      notes?: string[];
      n?: number;
      participants?: number;
    };
    const result = JSON.parse(readFileSync(join(run, 'result.json'), 'utf8')) as {
      data: { complete_participants: number };
    };
    expect(JSON.stringify(analysis.notes)).toMatch(/lack a modality \(blank latents\) and are left out/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(`${result.data.complete_participants}`);
  });
});
