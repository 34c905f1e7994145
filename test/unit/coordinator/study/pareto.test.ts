import { describe, expect, it } from 'vitest';
import type { TrialRecord } from '../../../../coordinator/study/history.js';
import {
  best,
  crowdingDistance,
  dominates,
  nonDominatedSort,
  orderByDominance,
  paretoFront,
} from '../../../../coordinator/study/pareto.js';
import { errorOf } from '../../../helpers/errors.js';

function trial(
  number: number,
  values: number[] | undefined,
  state: TrialRecord['state'] = 'complete',
): TrialRecord {
  return { number, params: {}, state, ...(values === undefined ? {} : { values }), intermediate: [] };
}

describe('dominates', () => {
  it('needs no worse everywhere and better somewhere, per direction', () => {
    expect(dominates([1, 2], [2, 2], ['minimize', 'minimize'])).toBe(true);
    expect(dominates([2, 2], [2, 2], ['minimize', 'minimize'])).toBe(false);
    expect(dominates([1, 3], [2, 2], ['minimize', 'minimize'])).toBe(false);
    expect(dominates([1, 3], [2, 2], ['minimize', 'maximize'])).toBe(true);
    expect(dominates([2, 2], [1, 3], ['maximize', 'minimize'])).toBe(true);
  });

  it('ranks NaN below any number', () => {
    expect(dominates([1], [NaN], ['maximize'])).toBe(true);
    expect(dominates([NaN], [1], ['minimize'])).toBe(false);
  });

  it('refuses vectors that do not match the directions', () => {
    expect(errorOf(() => dominates([1, 2], [1], ['minimize'])).where.field).toBe('directions');
  });
});

describe('nonDominatedSort', () => {
  it('peels fronts off one by one (minimize accuracy loss, maximize throughput)', () => {
    const points = [
      [0.1, 10], // front 0
      [0.2, 30], // front 0
      [0.2, 20], // dominated by 1
      [0.3, 5], // dominated by 0 and 2
      [0.05, 1], // front 0: best loss
    ];
    expect(nonDominatedSort(points, ['minimize', 'maximize'])).toEqual([0, 0, 1, 2, 0]);
  });

  it('gives one rank per distinct value with one objective', () => {
    expect(nonDominatedSort([[3], [1], [2], [1]], ['minimize'])).toEqual([2, 0, 1, 0]);
    expect(nonDominatedSort([[3], [1], [2], [1]], ['maximize'])).toEqual([0, 2, 1, 2]);
  });
});

describe('crowdingDistance', () => {
  it('gives the extremes Infinity and others the normalized neighbour gap', () => {
    const points = [
      [0, 4],
      [1, 2],
      [2, 1],
      [4, 0],
    ];
    const d = crowdingDistance(points, [0, 1, 2, 3]);
    expect(d.get(0)).toBe(Infinity);
    expect(d.get(3)).toBe(Infinity);
    expect(d.get(1)).toBeCloseTo(2 / 4 + 3 / 4);
    expect(d.get(2)).toBeCloseTo(3 / 4 + 2 / 4);
  });

  it('uses only the given indices and leaves equal points tied', () => {
    const points = [[5], [1], [1], [9]];
    const d = crowdingDistance(points, [1, 2]);
    expect([...d.keys()]).toEqual([1, 2]);
    expect(d.get(1)).toBe(0);
    expect(d.get(2)).toBe(0);
  });
});

describe('orderByDominance', () => {
  it('orders by front, then spread within a front', () => {
    const points = [
      [2, 2], // front 0, middle
      [3, 3], // front 1
      [1, 4], // front 0, extreme
      [4, 1], // front 0, extreme
    ];
    expect(orderByDominance(points, ['minimize', 'minimize'])).toEqual([2, 3, 0, 1]);
  });
});

describe('paretoFront and best', () => {
  const trials = [
    trial(0, [0.5, 100]),
    trial(1, [0.4, 50]),
    trial(2, [0.6, 120]),
    trial(3, [0.3, 80]),
    trial(4, undefined, 'running'),
    trial(5, [0.1, 999], 'pruned'),
    trial(6, [0.3]),
  ];

  it('keeps complete, non-dominated trials, by number', () => {
    expect(paretoFront(trials, ['minimize', 'maximize']).map((t) => t.number)).toEqual([0, 2, 3]);
    expect(paretoFront(trials, ['minimize', 'minimize']).map((t) => t.number)).toEqual([1, 3]);
    expect(paretoFront(trials, ['maximize', 'maximize']).map((t) => t.number)).toEqual([2]);
  });

  it('picks the best single-objective trial, lower number on ties', () => {
    const single = [trial(0, [3]), trial(1, [1]), trial(2, [1]), trial(3, [NaN]), trial(4, [0], 'pruned')];
    expect(best(single, ['minimize'])?.number).toBe(1);
    expect(best(single, ['maximize'])?.number).toBe(0);
    expect(best([trial(0, [NaN])], ['minimize'])).toBeUndefined();
    expect(best(trials, ['minimize', 'maximize'])).toBeUndefined();
    expect(best([], ['minimize'])).toBeUndefined();
  });
});
