import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../common/random.js';
import type { TrialRecord } from '../../../../coordinator/study/history.js';
import { createSampler, type Sampler } from '../../../../coordinator/study/sampler.js';
import {
  CategoricalParzenEstimator,
  NumericParzenEstimator,
  defaultWeights,
} from '../../../../coordinator/study/samplers/parzen-estimator.js';
import { goodCount, splitTrials } from '../../../../coordinator/study/samplers/tpe-split.js';
import { logNormalMass } from '../../../../coordinator/study/samplers/truncnorm.js';
import type { ParamAssignment, SearchSpace } from '../../../../coordinator/study/space.js';

const square: SearchSpace = {
  params: [
    { name: 'x', type: 'float', low: -5, high: 5 },
    { name: 'y', type: 'float', low: -5, high: 5 },
  ],
};

function quadratic(p: ParamAssignment): number {
  return ((p.x as number) - 1.3) ** 2 + ((p.y as number) + 0.7) ** 2;
}

function bestAfter(sampler: Sampler, n: number): number {
  const history: TrialRecord[] = [];
  let bestValue = Infinity;
  for (let number = 0; number < n; number++) {
    const params = sampler.sample({ space: square, directions: ['minimize'], history }, number);
    const value = quadratic(params);
    bestValue = Math.min(bestValue, value);
    history.push({ number, params, state: 'complete', values: [value], intermediate: [] });
  }
  return bestValue;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return ((s[4] as number) + (s[5] as number)) / 2;
}

function record(number: number, params: ParamAssignment, extra: Partial<TrialRecord> = {}): TrialRecord {
  return { number, params, state: 'complete', intermediate: [], ...extra };
}

describe('TPE sampler', () => {
  it('beats random search on a 2-D quadratic (median best of 40 trials over 10 seeds)', () => {
    const seeds = Array.from({ length: 10 }, (_, i) => 100 + i);
    const tpe = median(seeds.map((seed) => bestAfter(createSampler({ type: 'tpe', seed }), 40)));
    const random = median(seeds.map((seed) => bestAfter(createSampler({ type: 'random', seed }), 40)));
    expect(tpe).toBeLessThan(random / 2);
  });

  it('samples like random search until nStartupTrials trials finished', () => {
    const history = [
      record(0, { x: 0, y: 0 }, { values: [1] }),
      record(1, { x: 1, y: 1 }, { state: 'running' }),
    ];
    const tpe = createSampler({ type: 'tpe', seed: 3, nStartupTrials: 2 });
    const a = tpe.sample({ space: square, directions: ['minimize'], history }, 5);
    const b = tpe.sample({ space: square, directions: ['minimize'], history: [] }, 5);
    expect(a).toEqual(b);
  });

  it('ignores running and failed trials', () => {
    const finished = Array.from({ length: 12 }, (_, i) =>
      record(i, { x: i - 5, y: 0 }, { values: [quadratic({ x: i - 5, y: 0 })] }),
    );
    const noise = [
      record(12, { x: 4, y: 4 }, { state: 'running' }),
      record(13, { x: -4, y: -4 }, { state: 'failed' }),
    ];
    const tpe = createSampler({ type: 'tpe', seed: 3 });
    const ctx = { space: square, directions: ['minimize' as const] };
    expect(tpe.sample({ ...ctx, history: [...finished, ...noise] }, 14)).toEqual(
      tpe.sample({ ...ctx, history: finished }, 14),
    );
  });

  it('favours the categorical choice of the good trials', () => {
    const space: SearchSpace = {
      params: [{ name: 'act', type: 'categorical', choices: ['relu', 'tanh', 'gelu'] }],
    };
    const loss: Record<string, number> = { relu: 1, tanh: 2, gelu: 0 };
    const history = Array.from({ length: 30 }, (_, i) => {
      const act = ['relu', 'tanh', 'gelu'][i % 3] as string;
      return record(i, { act }, { values: [(loss[act] as number) + i * 1e-3] });
    });
    const tpe = createSampler({ type: 'tpe', seed: 9 });
    const picks = Array.from(
      { length: 50 },
      (_, k) => tpe.sample({ space, directions: ['minimize'], history }, 30 + k).act,
    );
    expect(picks.filter((a) => a === 'gelu').length).toBeGreaterThan(40);
  });

  it('learns a conditional param only from trials where it was active, and maximizes when told', () => {
    const space: SearchSpace = {
      params: [
        { name: 'model', type: 'categorical', choices: ['linear', 'mlp'] },
        { name: 'width', type: 'int', low: 1, high: 100, when: { param: 'model', in: ['mlp'] } },
      ],
    };
    // Accuracy: mlp with a width near 90 is best; linear is mediocre.
    const history = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? record(i, { model: 'linear' }, { values: [0.5] })
        : record(
            i,
            { model: 'mlp', width: ((i * 37) % 100) + 1 },
            { values: [1 - Math.abs(((i * 37) % 100) + 1 - 90) / 100] },
          ),
    );
    const tpe = createSampler({ type: 'tpe', seed: 2 });
    const picks = Array.from({ length: 30 }, (_, k) =>
      tpe.sample({ space, directions: ['maximize'], history }, 40 + k),
    );
    for (const p of picks) expect('width' in p).toBe(p.model === 'mlp');
    const widths = picks.flatMap((p) => (p.width === undefined ? [] : [p.width as number]));
    expect(widths.length).toBeGreaterThan(20);
    expect(median(widths.slice(0, 10))).toBeGreaterThan(60);
  });

  it('keeps stepped and log values on their grids', () => {
    const space: SearchSpace = {
      params: [
        { name: 'lr', type: 'float', low: 1e-4, high: 1, log: true },
        { name: 'units', type: 'int', low: 2, high: 512, log: true },
        { name: 'drop', type: 'float', low: 0, high: 0.5, step: 0.1 },
        { name: 'batch', type: 'int', low: 8, high: 64, step: 8 },
        // The last step (0.9) falls short of high.
        { name: 'odd', type: 'float', low: 0, high: 1, step: 0.3 },
      ],
    };
    const tpe = createSampler({ type: 'tpe', seed: 5, nStartupTrials: 3 });
    const history: TrialRecord[] = [];
    for (let number = 0; number < 40; number++) {
      const p = tpe.sample({ space, directions: ['minimize'], history }, number);
      expect(p.lr as number).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr as number).toBeLessThanOrEqual(1);
      expect(Number.isInteger(p.units) && (p.units as number) >= 2 && (p.units as number) <= 512).toBe(true);
      expect([0, 0.1, 0.2, 0.3, 0.4, 0.5]).toContain(p.drop);
      expect([8, 16, 24, 32, 40, 48, 56, 64]).toContain(p.batch);
      expect([0, 0.3, 0.6, 0.9]).toContain(p.odd);
      const value =
        Math.abs(Math.log10(p.lr as number) + 3) +
        (p.drop as number) +
        Math.abs((p.batch as number) - 32) / 32;
      history.push(record(number, p, { values: [value] }));
    }
  });
});

describe('TPE split', () => {
  it('takes min(ceil(0.1 n), 25) good trials by default', () => {
    expect(goodCount(1, 0.1)).toBe(1);
    expect(goodCount(10, 0.1)).toBe(1);
    expect(goodCount(11, 0.1)).toBe(2);
    expect(goodCount(1000, 0.1)).toBe(25);
    expect(goodCount(10, 0.5)).toBe(5);
  });

  it('fills the good group from complete trials, then from the pruned ones that got furthest', () => {
    const trials = [
      record(0, {}, { values: [3] }),
      record(1, {}, { state: 'pruned', intermediate: [{ step: 5, values: [0.1] }] }),
      record(2, {}, { values: [1] }),
      record(3, {}, { state: 'pruned', intermediate: [{ step: 9, values: [9] }] }),
      record(4, {}, { state: 'pruned', intermediate: [] }),
    ];
    const two = splitTrials(trials, 2, ['minimize'], ['minimize']);
    expect(two.good.map((t) => t.number)).toEqual([0, 2]);
    expect(two.bad.map((t) => t.number)).toEqual([1, 3, 4]);
    const four = splitTrials(trials, 4, ['minimize'], ['minimize']);
    expect(four.good.map((t) => t.number)).toEqual([0, 1, 2, 3]);
  });

  it('ranks several objectives by front, then crowding', () => {
    const trials = [
      record(0, {}, { values: [2, 2] }), // front 0, middle
      record(1, {}, { values: [1, 4] }), // front 0, extreme
      record(2, {}, { values: [3, 3] }), // front 1
      record(3, {}, { values: [4, 1] }), // front 0, extreme
    ];
    expect(splitTrials(trials, 2, ['minimize', 'minimize'], ['minimize']).good.map((t) => t.number)).toEqual([
      1, 3,
    ]);
    expect(splitTrials(trials, 3, ['minimize', 'minimize'], ['minimize']).good.map((t) => t.number)).toEqual([
      0, 1, 3,
    ]);
  });
});

describe('Parzen estimators', () => {
  it('follows Optuna default weights', () => {
    expect(defaultWeights(3)).toEqual([1, 1, 1]);
    const w = defaultWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30);
    expect(w[4]).toBeCloseTo(1);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
  });

  it('is a density on its range, continuous or stepped', () => {
    const continuous = new NumericParzenEstimator([0.2, 0.25, 0.9], { low: 0, high: 1 });
    let integral = 0;
    for (let i = 0; i < 10000; i++) integral += Math.exp(continuous.logPdf((i + 0.5) / 10000)) / 10000;
    expect(integral).toBeCloseTo(1, 3);
    const stepped = new NumericParzenEstimator([2, 3, 9], { low: 0, high: 10, step: 1 });
    let total = 0;
    for (let k = 0; k <= 10; k++) total += Math.exp(stepped.logPdf(k));
    expect(total).toBeCloseTo(1, 5);
    const rng = new Rng('parzen');
    for (let i = 0; i < 200; i++) expect(Number.isInteger(stepped.sample(rng))).toBe(true);
  });

  it('smooths categorical counts into a distribution', () => {
    const est = new CategoricalParzenEstimator([0, 0, 2], 3);
    const p = [0, 1, 2].map((i) => Math.exp(est.logPdf(i)));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[0]).toBeGreaterThan(p[2] as number);
    expect(p[2]).toBeGreaterThan(p[1] as number);
    expect(p[1]).toBeGreaterThan(0);
  });

  it('computes normal masses far in the tails without underflowing to zero', () => {
    expect(Math.exp(logNormalMass(-1, 1))).toBeCloseTo(0.682689, 5);
    expect(Math.exp(logNormalMass(0, Infinity))).toBeCloseTo(0.5, 6);
    expect(logNormalMass(40, 41)).toBeGreaterThan(-Infinity);
    expect(logNormalMass(40, 41)).toBeCloseTo(-800 - Math.log(40 * Math.sqrt(2 * Math.PI)), 1);
    expect(logNormalMass(-41, -40)).toBeCloseTo(logNormalMass(40, 41), 9);
  });
});
