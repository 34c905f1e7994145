import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../common/errors.js';
import {
  lpt,
  modalityCost,
  modalityParams,
  placeModalities,
  type PlacedModality,
} from '../../../coordinator/placement.js';

const mod = (name: string, dims: number, latents = 2, exogenous = 1): PlacedModality => ({
  name,
  dims,
  latents,
  exogenous,
});

function loads(assignments: { modalities: string[] }[], mods: PlacedModality[]): number[] {
  const byName = new Map(mods.map((m) => [m.name, m]));
  return assignments.map((a) => a.modalities.reduce((s, m) => s + modalityCost(byName.get(m)!, 1000), 0));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof CrlError ? err.code : 'not a CrlError';
  }
  return undefined;
}

describe('modality cost', () => {
  it('counts encoder and decoder weights: d·h + h²·(layers−1) + h·code each', () => {
    expect(modalityParams(mod('a', 10, 2, 1), { hidden: 4, layers: 3 })).toBe(2 * (10 * 4 + 16 * 2 + 4 * 3));
    expect(modalityCost(mod('a', 10, 2, 1), 5, { hidden: 4, layers: 1 })).toBe(5 * 2 * (40 + 12));
  });
});

describe('lpt', () => {
  it('puts the largest first onto the least-loaded bin, lower bin on ties', () => {
    expect(lpt([5, 4, 3, 3, 3], 2)).toEqual([
      [0, 3],
      [1, 2, 4],
    ]);
    expect(lpt([1, 1, 1], 3)).toEqual([[0], [1], [2]]);
  });
});

describe('placeModalities', () => {
  const mods = [mod('a', 100), mod('b', 10), mod('c', 10), mod('d', 80)];

  it('balances the cost over the trainers', () => {
    const out = placeModalities({ modalities: mods, rows: 1000, idleTrainers: ['t1', 't2'], trainers: 2 });
    expect(out).toEqual([
      { trainerId: 't1', modalities: ['a', 'c'], shardIndex: 0, shardCount: 1 },
      { trainerId: 't2', modalities: ['b', 'd'], shardIndex: 0, shardCount: 1 },
    ]);
    const [x, y] = loads(out, mods);
    // a+c vs b+d: better than any split that pairs the two large ones.
    expect(Math.max(x!, y!)).toBeLessThan(modalityCost(mods[0]!, 1000) + modalityCost(mods[3]!, 1000));
  });

  it('is deterministic: the idle list order does not matter, trainers go by id (t2 before t10)', () => {
    const a = placeModalities({ modalities: mods, rows: 10, idleTrainers: ['t10', 't2', 't3'], trainers: 3 });
    const b = placeModalities({ modalities: mods, rows: 10, idleTrainers: ['t3', 't10', 't2'], trainers: 3 });
    expect(a).toEqual(b);
    expect(a.map((x) => x.trainerId)).toEqual(['t2', 't3', 't10']);
    // Equal costs go by modality order: b before c.
    expect(a.map((x) => x.modalities)).toEqual([['a'], ['d'], ['b', 'c']]);
  });

  it('uses one trainer per modality by default, at most the idle ones', () => {
    expect(
      placeModalities({ modalities: mods, rows: 10, idleTrainers: ['a', 'b', 'c', 'd', 'e'] }),
    ).toHaveLength(4);
    const two = placeModalities({ modalities: mods, rows: 10, idleTrainers: ['x', 'y'] });
    expect(two.map((a) => a.trainerId)).toEqual(['x', 'y']);
    expect(two.flatMap((a) => a.modalities).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('leaves trainers beyond the modality count unused', () => {
    const out = placeModalities({
      modalities: mods.slice(0, 2),
      rows: 10,
      idleTrainers: ['t1', 't2', 't3'],
      trainers: 3,
    });
    expect(out.map((a) => [a.trainerId, a.modalities])).toEqual([
      ['t1', ['a']],
      ['t2', ['b']],
    ]);
  });

  it('gives every replica the same partition on its own trainers', () => {
    const out = placeModalities({
      modalities: mods,
      rows: 1000,
      idleTrainers: ['t1', 't2', 't3', 't4', 't5'],
      trainers: 2,
      replicas: 2,
    });
    expect(out.map((a) => [a.trainerId, a.shardIndex, a.shardCount])).toEqual([
      ['t1', 0, 2],
      ['t2', 0, 2],
      ['t3', 1, 2],
      ['t4', 1, 2],
    ]);
    expect(out[2]!.modalities).toEqual(out[0]!.modalities);
    expect(out[3]!.modalities).toEqual(out[1]!.modalities);
  });

  it('refuses with FAILED_PRECONDITION, saying how many are needed and idle', () => {
    const req = { modalities: mods, rows: 10, idleTrainers: ['t1', 't2', 't3'], trainers: 2, replicas: 2 };
    expect(codeOf(() => placeModalities(req))).toBe('FAILED_PRECONDITION');
    expect(() => placeModalities(req)).toThrow(
      /needs 4 idle trainers \(2 per replica × 2 replicas\), 3 are idle/,
    );
    expect(() => placeModalities({ modalities: mods, rows: 10, idleTrainers: [] })).toThrow(
      /needs 1 idle trainer, 0 are idle/,
    );
    expect(() => placeModalities({ modalities: mods, rows: 10, idleTrainers: ['t1'], replicas: 3 })).toThrow(
      /needs 3 idle trainers.*1 is idle/,
    );
  });

  it('names the field of a bad count', () => {
    expect(() => placeModalities({ modalities: mods, rows: 10, idleTrainers: ['t1'], trainers: -1 })).toThrow(
      /^trainers: /,
    );
    expect(() => placeModalities({ modalities: mods, rows: 10, idleTrainers: ['t1'], replicas: -2 })).toThrow(
      /^replicas: /,
    );
  });
});
