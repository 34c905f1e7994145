import { describe, expect, it } from 'vitest';
import { joinParticipants, parseIdLines } from '../../../../../trainer/data/cohort/join.js';
import { errorOf } from '../../../../helpers/errors.js';

describe('participant join', () => {
  it('maps every participant to its row in each modality, -1 where missing, in first-seen order', () => {
    const j = joinParticipants([
      { name: 'a', file: 'a.csv', ids: ['p2', 'p1', 'p3'] },
      { name: 'b', file: 'b.npy', ids: ['p3', 'p4'] },
    ]);
    expect(j.ids).toEqual(['p2', 'p1', 'p3', 'p4']);
    expect([...(j.rowOf[0] as Int32Array)]).toEqual([0, 1, 2, -1]);
    expect([...(j.rowOf[1] as Int32Array)]).toEqual([-1, -1, 0, 1]);
  });

  it('follows the participants list when given', () => {
    const j = joinParticipants([{ name: 'a', file: 'a.csv', ids: ['p2', 'p1'] }], {
      file: 'participants.txt',
      ids: ['p1', 'p2'],
    });
    expect(j.ids).toEqual(['p1', 'p2']);
    expect([...(j.rowOf[0] as Int32Array)]).toEqual([1, 0]);
  });

  it('rejects a duplicated ID, naming the file, participant and both rows', () => {
    const e = errorOf(() => joinParticipants([{ name: 'a', file: 'a.csv', ids: ['p1', 'p2', 'p1'] }]));
    expect(e.message).toMatch(/participant p1 appears twice in modality a \(rows 1 and 3\)/);
    expect(e.where.file).toBe('a.csv');
  });

  it('rejects an ID the participants list lacks, and a listed participant with no data', () => {
    const unknown = errorOf(() =>
      joinParticipants([{ name: 'a', file: 'a.csv', ids: ['p1', 'p9'] }], { file: 'pp.txt', ids: ['p1'] }),
    );
    expect(unknown.message).toMatch(/participant p9 \(row 2 of modality a\) is not in the participants list/);
    const empty = errorOf(() =>
      joinParticipants([{ name: 'a', file: 'a.csv', ids: ['p1'] }], { file: 'pp.txt', ids: ['p1', 'p2'] }),
    );
    expect(empty.message).toMatch(/participant p2 has no data in any modality/);
    expect(empty.where.file).toBe('pp.txt');
  });

  it('reads one ID per line and refuses blank lines inside', () => {
    expect(parseIdLines('a\r\nb\n\n', 'f')).toEqual(['a', 'b']);
    expect(errorOf(() => parseIdLines('a\n\nb\n', 'ids.txt')).message).toMatch(/empty participant ID/);
  });
});
