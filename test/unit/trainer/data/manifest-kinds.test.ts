import { describe, expect, it } from 'vitest';
import { isKeyed, manifestRowShape, parseManifest } from '../../../../trainer/data/manifest.js';
import { errorOf } from '../../../helpers/errors.js';

const base = { format: 'crl-dataset', version: 1, name: 'x' };
const image = { name: 'eye', kind: 'image', format: 'png', path: 'eye', height: 8, width: 6, channels: 3 };
const series = {
  name: 'sleep',
  kind: 'timeseries',
  format: 'npy',
  path: 's.npy',
  ids: 's.txt',
  length: 20,
  channels: 2,
};
const labs = { name: 'labs', kind: 'tabular', path: 'labs.csv', dims: 4, id_column: 'participant_id' };

describe('manifest: modality kinds and participant keys', () => {
  it('accepts a keyed cohort of every kind and derives row shapes', () => {
    const m = parseManifest({ ...base, participants: 'p.txt', modalities: [labs, series, image] });
    expect(m.modalities.map(isKeyed)).toEqual([true, true, true]);
    expect(m.modalities.map(manifestRowShape)).toEqual([[4], [20, 2], [8, 6, 3]]);
    // Defaults: CSV for tabular, one array for a series.
    expect(m.modalities[0]).toMatchObject({ format: 'csv' });
    expect(m.modalities[1]).toMatchObject({ layout: 'array' });
  });

  it('needs n for positional rows, and refuses mixing positional and keyed modalities', () => {
    const positional = {
      name: 'm',
      kind: 'image',
      format: 'npy',
      path: 'm.npy',
      height: 2,
      width: 2,
      channels: 1,
    };
    expect(errorOf(() => parseManifest({ ...base, modalities: [positional] })).message).toMatch(
      /n: required when rows are matched by position/,
    );
    const e = errorOf(() => parseManifest({ ...base, n: 5, modalities: [labs, positional] }));
    expect(e.where.field).toBe('modalities[1]');
  });

  it('refuses ids for per-participant files, unknown kinds and formats, and unkeyed truth in a keyed cohort', () => {
    expect(
      errorOf(() => parseManifest({ ...base, modalities: [{ ...image, ids: 'x.txt' }] })).where.field,
    ).toBe('modalities[0].ids');
    expect(
      errorOf(() => parseManifest({ ...base, n: 3, modalities: [{ ...image, kind: 'video' }] })).where.field,
    ).toMatch(/^modalities\[0\]/);
    expect(
      errorOf(() => parseManifest({ ...base, n: 3, modalities: [{ ...image, format: 'gif' }] })).where.field,
    ).toBe('modalities[0].format');
    const truth = { latents: 't.csv', graph: 'g.json' };
    expect(
      errorOf(() => parseManifest({ ...base, participants: 'p.txt', modalities: [labs], truth })).where.field,
    ).toBe('truth.id_column');
    expect(
      errorOf(() =>
        parseManifest({ ...base, modalities: [labs], truth: { ...truth, id_column: 'participant_id' } }),
      ).where.field,
    ).toBe('participants');
  });
});
