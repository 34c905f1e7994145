import { describe, expect, it } from 'vitest';
import {
  joinLatentsWithTabular,
  parseJoinSource,
  type JoinSource,
} from '../../../../evaluator/analysis/join.js';
import { errorOf } from '../../../helpers/errors.js';

const ID = ['participant_id'];
const latents = (text: string): JoinSource => parseJoinSource(text, ID, 'run/latents.csv');
const tabular = (text: string): JoinSource => parseJoinSource(text, ID, 'extra.csv');
const rows = (s: JoinSource | { table: JoinSource['table'] }): number[][] => {
  const p = s.table.columns.length;
  return Array.from({ length: s.table.nRows }, (_, i) =>
    Array.from(s.table.data.subarray(i * p, (i + 1) * p)),
  );
};

describe('reading a join source', () => {
  it('finds the first listed ID column the header holds, else reads the file unkeyed', () => {
    const keyed = parseJoinSource('z1_1,pid,z1_2\n1,a,2\n3,b,4\n', ['participant_id', 'pid'], 'l.csv');
    expect(keyed).toMatchObject({ idColumn: 'pid', ids: ['a', 'b'] });
    expect(keyed.table.columns).toEqual(['z1_1', 'z1_2']);
    expect(rows(keyed)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const plain = parseJoinSource('z1_1,z1_2\n1,2\n', ID, 'l.csv');
    expect(plain.ids).toBeUndefined();
    expect(plain.idColumn).toBeUndefined();
    expect(plain.table.columns).toEqual(['z1_1', 'z1_2']);
  });

  it('keeps the CSV reader strict: an empty cell names the file, line and column', () => {
    const e = errorOf(() => tabular('participant_id,age,grip\np1,40,30\np2,,31\n'));
    expect(e.where).toEqual({ file: 'extra.csv', line: 3, column: 'age' });
    expect(e.message).toMatch(/empty cell/);
    const id = errorOf(() => tabular('participant_id,age\n,40\n'));
    expect(id.where).toMatchObject({ file: 'extra.csv', line: 2, column: 'participant_id' });
  });
});

describe('joining latents with tabular variables', () => {
  it('joins by participant ID in the latents order, leaving out and counting the unmatched of each side', () => {
    const l = latents('participant_id,z1_1,z2_1\np1,1,10\np2,2,20\np3,3,30\np4,4,40\n');
    const t = tabular('participant_id,age,sex\np9,99,1\np3,33,0\np1,11,1\np8,88,0\np2,22,1\n');
    const j = joinLatentsWithTabular(l, t);
    expect(j.mode).toBe('id');
    expect(j.idColumn).toBe('participant_id');
    expect(j.ids).toEqual(['p1', 'p2', 'p3']);
    expect(j.table.columns).toEqual(['z1_1', 'z2_1', 'age', 'sex']);
    expect(j.latentColumns).toEqual(['z1_1', 'z2_1']);
    expect(j.tabularColumns).toEqual(['age', 'sex']);
    expect(rows(j)).toEqual([
      [1, 10, 11, 1],
      [2, 20, 22, 1],
      [3, 30, 33, 0],
    ]);
    expect(j.dropped).toEqual({ latents: 1, tabular: 2 });
    expect(j.droppedExamples).toEqual({ latents: ['p4'], tabular: ['p9', 'p8'] });
  });

  it('joins by position when neither file has IDs', () => {
    const j = joinLatentsWithTabular(latents('z1_1\n1\n2\n'), tabular('age,grip\n40,30\n50,20\n'));
    expect(j.mode).toBe('position');
    expect(j.ids).toBeUndefined();
    expect(rows(j)).toEqual([
      [1, 40, 30],
      [2, 50, 20],
    ]);
    expect(j.dropped).toEqual({ latents: 0, tabular: 0 });
  });

  it('refuses different row counts by position, naming both files and both counts', () => {
    const e = errorOf(() => joinLatentsWithTabular(latents('z1_1\n1\n2\n3\n'), tabular('age\n40\n50\n')));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/run\/latents\.csv has 3 rows but extra\.csv has 2/);
  });

  it('refuses one file with IDs and one without, either way round', () => {
    const a = errorOf(() =>
      joinLatentsWithTabular(latents('participant_id,z1_1\np1,1\n'), tabular('age\n40\n')),
    );
    expect(a.message).toMatch(
      /run\/latents\.csv has a participant ID column "participant_id" but extra\.csv has none/,
    );
    const b = errorOf(() =>
      joinLatentsWithTabular(latents('z1_1\n1\n'), tabular('participant_id,age\np1,40\n')),
    );
    expect(b.message).toMatch(/extra\.csv has a participant ID column .* but run\/latents\.csv has none/);
  });

  it('refuses a duplicated ID, naming the file, the ID and both lines', () => {
    const t = tabular('participant_id,age\np1,40\np2,50\np1,41\n');
    const e = errorOf(() => joinLatentsWithTabular(latents('participant_id,z1_1\np1,1\np2,2\n'), t));
    expect(e.where).toMatchObject({ file: 'extra.csv', line: 4 });
    expect(e.message).toMatch(/participant ID "p1" appears twice \(lines 2 and 4\)/);
    const l = latents('participant_id,z1_1\np1,1\np7,2\np7,3\n');
    const e2 = errorOf(() => joinLatentsWithTabular(l, tabular('participant_id,age\np1,40\n')));
    expect(e2.message).toMatch(/^run\/latents\.csv:4.*"p7" appears twice \(lines 3 and 4\)/);
  });

  it('refuses an empty intersection, naming both files', () => {
    const e = errorOf(() =>
      joinLatentsWithTabular(
        latents('participant_id,z1_1\np1,1\np2,2\n'),
        tabular('participant_id,age\nq1,40\nq2,41\nq3,42\nq4,43\n'),
      ),
    );
    expect(e.message).toMatch(
      /no participant is in both run\/latents\.csv \(2 IDs, e\.g\. "p1", "p2"\) and extra\.csv \(4 IDs, e\.g\. "q1", "q2", "q3", \.\.\.\)/,
    );
  });

  it('refuses a tabular column named like a latent column', () => {
    const e = errorOf(() => joinLatentsWithTabular(latents('z1_1,z2_1\n1,2\n'), tabular('age,z2_1\n40,3\n')));
    expect(e.where).toMatchObject({ file: 'extra.csv', column: 'z2_1' });
    expect(e.message).toMatch(/has the name of a latent in run\/latents\.csv/);
  });

  it('refuses a tabular file with nothing but IDs', () => {
    const e = errorOf(() =>
      joinLatentsWithTabular(latents('participant_id,z1_1\np1,1\n'), tabular('participant_id\np1\n')),
    );
    expect(e.message).toMatch(/extra\.csv:1: has no variable columns/);
  });
});
