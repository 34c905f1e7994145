import { describe, expect, it } from 'vitest';
import type { TrialRecord } from '../../../../coordinator/study/history.js';
import { createSampler, type Sampler, type SamplerConfig } from '../../../../coordinator/study/sampler.js';
import { gridOf, type ParamAssignment, type SearchSpace } from '../../../../coordinator/study/space.js';
import { errorOf } from '../../../helpers/errors.js';

const conditional: SearchSpace = {
  params: [
    { name: 'model', type: 'categorical', choices: ['linear', 'mlp', 'rnn'] },
    {
      name: 'hidden',
      type: 'int',
      low: 8,
      high: 256,
      log: true,
      when: { param: 'model', in: ['mlp', 'rnn'] },
    },
    { name: 'cell', type: 'categorical', choices: ['gru', 'lstm'], when: { param: 'model', in: ['rnn'] } },
    { name: 'peephole', type: 'categorical', choices: [true, false], when: { param: 'cell', in: ['lstm'] } },
    { name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true },
    { name: 'batch', type: 'int', low: 16, high: 128, step: 16 },
    { name: 'dropout', type: 'float', low: 0, high: 0.5, step: 0.05 },
    { name: 'momentum', type: 'float', low: 0.5, high: 0.99 },
  ],
};

/** Runs `n` trials of `sampler` on `f`, all completing, as a study would. */
function runStudy(
  sampler: Sampler,
  space: SearchSpace,
  n: number,
  f: (p: ParamAssignment) => number,
): TrialRecord[] {
  const history: TrialRecord[] = [];
  for (let number = 0; number < n; number++) {
    const params = sampler.sample({ space, directions: ['minimize'], history }, number);
    history.push({ number, params, state: 'complete', values: [f(params)], intermediate: [] });
  }
  return history;
}

/** A toy objective over the conditional space, so TPE has something to model. */
function toyLoss(p: ParamAssignment): number {
  return Math.abs(Math.log10(p.lr as number) + 2) + (p.model === 'mlp' ? 0 : 1) + (p.dropout as number);
}

function expectValidForConditional(p: ParamAssignment): void {
  expect(Object.keys(p).sort()).toEqual(
    [
      'model',
      'lr',
      'batch',
      'dropout',
      'momentum',
      ...(p.model === 'linear' ? [] : ['hidden']),
      ...(p.model === 'rnn' ? ['cell'] : []),
      ...(p.cell === 'lstm' ? ['peephole'] : []),
    ].sort(),
  );
  const hidden = p.hidden;
  if (hidden !== undefined) {
    expect(typeof hidden === 'number' && Number.isInteger(hidden) && hidden >= 8 && hidden <= 256).toBe(true);
  }
  const lr = p.lr as number;
  expect(lr >= 1e-4 && lr <= 1e-1).toBe(true);
  expect([16, 32, 48, 64, 80, 96, 112, 128]).toContain(p.batch);
  expect(Array.from({ length: 11 }, (_, k) => Number((k * 0.05).toFixed(2)))).toContain(p.dropout);
  const momentum = p.momentum as number;
  expect(momentum >= 0.5 && momentum <= 0.99).toBe(true);
}

describe.each<SamplerConfig>([
  { type: 'random', seed: 7 },
  { type: 'tpe', seed: 7, nStartupTrials: 5 },
])('$type sampler', (cfg) => {
  it('sets conditional params only when active, and keeps every value in range', () => {
    const history = runStudy(createSampler(cfg), conditional, 60, toyLoss);
    for (const t of history) expectValidForConditional(t.params);
    const models = new Set(history.map((t) => t.params.model));
    expect(models.size).toBeGreaterThan(1);
  });

  it('is a pure function of seed, history and number', () => {
    const history = runStudy(createSampler(cfg), conditional, 30, toyLoss);
    const again = runStudy(createSampler(cfg), conditional, 30, toyLoss);
    expect(again).toEqual(history);
    // A fresh sampler replaying the history continues the same sequence.
    const a = createSampler(cfg).sample({ space: conditional, directions: ['minimize'], history }, 30);
    const b = createSampler(cfg).sample({ space: conditional, directions: ['minimize'], history }, 30);
    expect(b).toEqual(a);
    const other = createSampler({ ...cfg, seed: 8 }).sample(
      { space: conditional, directions: ['minimize'], history },
      30,
    );
    expect(other).not.toEqual(a);
  });

  it('has no capacity limit', () => {
    expect(createSampler(cfg).capacity(conditional)).toBe(Infinity);
  });
});

describe('random sampler', () => {
  it('covers an int range inclusively and categoricals uniformly', () => {
    const space: SearchSpace = {
      params: [
        { name: 'n', type: 'int', low: 1, high: 3 },
        { name: 'c', type: 'categorical', choices: ['a', 'b'] },
      ],
    };
    const sampler = createSampler({ type: 'random', seed: 1 });
    const counts = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const p = sampler.sample({ space, directions: ['minimize'], history: [] }, i);
      const key = `${p.n}${p.c}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['1a', '1b', '2a', '2b', '3a', '3b']);
    for (const c of counts.values()) expect(c).toBeGreaterThan(60);
  });

  it('draws log params evenly per decade', () => {
    const space: SearchSpace = { params: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }] };
    const sampler = createSampler({ type: 'random', seed: 3 });
    const below1e3 = Array.from(
      { length: 1000 },
      (_, i) => sampler.sample({ space, directions: ['minimize'], history: [] }, i).lr as number,
    ).filter((lr) => lr < 1e-3).length;
    expect(below1e3).toBeGreaterThan(420);
    expect(below1e3).toBeLessThan(580);
  });

  it('refuses a negative or fractional trial number', () => {
    const sampler = createSampler({ type: 'random', seed: 1 });
    expect(
      errorOf(() => sampler.sample({ space: conditional, directions: ['minimize'], history: [] }, -1)).where
        .field,
    ).toBe('number');
  });
});

describe('grid sampler', () => {
  const space: SearchSpace = {
    params: [
      { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
      {
        name: 'momentum',
        type: 'float',
        low: 0.8,
        high: 0.9,
        step: 0.05,
        when: { param: 'opt', in: ['sgd'] },
      },
      { name: 'layers', type: 'int', low: 1, high: 3 },
    ],
  };
  const ctx = { space, directions: ['minimize' as const], history: [] };

  it('covers exactly the grid, then refuses', () => {
    const sampler = createSampler({ type: 'grid', seed: 0 });
    const grid = gridOf(space);
    expect(sampler.capacity(space)).toBe(grid.length);
    expect(grid.length).toBe(3 * 3 + 3);
    const points = grid.map((_, i) => sampler.sample(ctx, i));
    expect(points).toEqual(grid);
    const err = errorOf(() => sampler.sample(ctx, grid.length));
    expect(err.code).toBe('FAILED_PRECONDITION');
  });

  it('shuffles in a seeded order that is still the whole grid', () => {
    const grid = gridOf(space);
    const keys = (s: Sampler): string[] => grid.map((_, i) => JSON.stringify(s.sample(ctx, i)));
    const shuffled = keys(createSampler({ type: 'grid', seed: 4, shuffle: true }));
    expect(keys(createSampler({ type: 'grid', seed: 4, shuffle: true }))).toEqual(shuffled);
    expect(shuffled).not.toEqual(grid.map((p) => JSON.stringify(p)));
    expect([...shuffled].sort()).toEqual(grid.map((p) => JSON.stringify(p)).sort());
    expect(keys(createSampler({ type: 'grid', seed: 5, shuffle: true }))).not.toEqual(shuffled);
  });

  it('does not let a caller corrupt the grid through a returned point', () => {
    const sampler = createSampler({ type: 'grid', seed: 0 });
    sampler.sample(ctx, 0).opt = 'mangled';
    expect(sampler.sample(ctx, 0).opt).toBe('sgd');
  });

  it('refuses a float without a step', () => {
    const sampler = createSampler({ type: 'grid', seed: 0 });
    const floaty: SearchSpace = { params: [{ name: 'x', type: 'float', low: 0, high: 1 }] };
    expect(errorOf(() => sampler.capacity(floaty)).where.field).toBe('space.params[0].step');
  });
});

describe('createSampler', () => {
  it.each([
    [{ type: 'random', seed: 1.5 }, 'sampler.seed'],
    [{ type: 'grid', seed: 1, shuffle: 'yes' }, 'sampler.shuffle'],
    [{ type: 'tpe', seed: 1, nStartupTrials: -1 }, 'sampler.nStartupTrials'],
    [{ type: 'tpe', seed: 1, nEiCandidates: 0 }, 'sampler.nEiCandidates'],
    [{ type: 'tpe', seed: 1, gamma: 0 }, 'sampler.gamma'],
    [{ type: 'tpe', seed: 1, gamma: 1.5 }, 'sampler.gamma'],
    [{ type: 'cmaes', seed: 1 }, 'sampler.type'],
  ])('names a bad setting %#', (cfg, field) => {
    const err = errorOf(() => createSampler(cfg as SamplerConfig));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.where.field).toBe(field);
  });

  it('names fields under the caller-given path', () => {
    expect(
      errorOf(() => createSampler({ type: 'tpe', seed: 1, gamma: 2 }, 'study.sampler')).where.field,
    ).toBe('study.sampler.gamma');
  });
});
