import { describe, expect, it } from 'vitest';
import type { TrialRecord } from '../../../../coordinator/study/history.js';
import { createPruner, type PrunerConfig } from '../../../../coordinator/study/pruner.js';
import { AshaPruner } from '../../../../coordinator/study/pruners/asha.js';
import type { Direction } from '../../../../coordinator/study/space.js';
import { errorOf } from '../../../helpers/errors.js';

/** A trial that reported `curve[i]` at step i+1 (single objective unless the entries are arrays). */
function trial(
  number: number,
  curve: (number | number[])[],
  state: TrialRecord['state'] = 'complete',
): TrialRecord {
  return {
    number,
    params: {},
    state,
    intermediate: curve.map((v, i) => ({ step: i + 1, values: Array.isArray(v) ? v : [v] })),
    ...(state === 'complete' ? { values: [0] } : {}),
  };
}

const min: Direction[] = ['minimize'];

describe('median pruner', () => {
  // Five complete trials whose loss curves sit around 1.0 at every step.
  const history = [0.8, 0.9, 1.0, 1.1, 1.2].map((c, i) => trial(i, [c + 1, c + 0.5, c, c, c]));
  const median = createPruner({ type: 'median' });

  it('prunes a clearly bad trial and keeps a good one', () => {
    expect(median.shouldPrune(trial(10, [5, 5, 5]), 3, { directions: min, history })).toBe(true);
    expect(median.shouldPrune(trial(11, [1.2, 0.6, 0.5]), 3, { directions: min, history })).toBe(false);
  });

  it('judges by the best value so far, in the study direction', () => {
    // Worse now, but its best (0.3 at step 1) beats the step-3 median.
    expect(median.shouldPrune(trial(12, [0.3, 4, 4]), 3, { directions: min, history })).toBe(false);
    const maxHistory = [1, 2, 3, 4, 5].map((c, i) => trial(i, [c, c]));
    expect(median.shouldPrune(trial(13, [1, 1]), 2, { directions: ['maximize'], history: maxHistory })).toBe(
      true,
    );
    expect(median.shouldPrune(trial(14, [5, 5]), 2, { directions: ['maximize'], history: maxHistory })).toBe(
      false,
    );
  });

  it('waits for nStartupTrials complete trials, counting neither itself nor running ones', () => {
    const four = [...history.slice(0, 4), trial(4, [1.0], 'running')];
    expect(median.shouldPrune(trial(10, [5, 5, 5]), 3, { directions: min, history: four })).toBe(false);
    const lenient = createPruner({ type: 'median', nStartupTrials: 4 });
    expect(lenient.shouldPrune(trial(10, [5, 5, 5]), 3, { directions: min, history: four })).toBe(true);
  });

  it('respects warmup steps and intervals', () => {
    const warm = createPruner({ type: 'median', nWarmupSteps: 3 });
    const bad = trial(10, [5, 5, 5, 5]);
    expect(warm.shouldPrune(bad, 2, { directions: min, history })).toBe(false);
    expect(warm.shouldPrune(bad, 3, { directions: min, history })).toBe(true);
    const every2 = createPruner({ type: 'median', intervalSteps: 2 });
    // Checkpoints are steps 0, 2, 4…; this trial's first report (step 1) is its first past checkpoint 0.
    expect(every2.shouldPrune(bad, 1, { directions: min, history })).toBe(true);
    expect(every2.shouldPrune(bad, 2, { directions: min, history })).toBe(true);
    expect(every2.shouldPrune(bad, 3, { directions: min, history })).toBe(false);
    // A trial that skipped checkpoint 4 is judged at its first report past it.
    const skipper: TrialRecord = {
      number: 11,
      params: {},
      state: 'running',
      intermediate: [
        { step: 3, values: [5] },
        { step: 5, values: [5] },
      ],
    };
    expect(every2.shouldPrune(skipper, 5, { directions: min, history })).toBe(true);
  });

  it('compares with the last value at or before the step of trials that stopped earlier', () => {
    // Pruned trials that stopped at step 1 with low losses still set the bar at step 3.
    const early = [0.1, 0.2, 0.3, 0.4, 0.5].map((c, i) => trial(20 + i, [c], 'pruned'));
    const ctx = { directions: min, history: [...history, ...early] };
    // Median over ten trials: (0.5 + 0.8) / 2 = 0.65.
    expect(median.shouldPrune(trial(10, [0.7, 0.7, 0.7]), 3, ctx)).toBe(true);
    expect(median.shouldPrune(trial(10, [0.6, 0.6, 0.6]), 3, ctx)).toBe(false);
  });

  it('prunes a diverged trial', () => {
    expect(median.shouldPrune(trial(10, [NaN]), 1, { directions: min, history })).toBe(true);
  });

  it('with several objectives prunes only a trial worse than the median on all of them', () => {
    const dirs: Direction[] = ['minimize', 'maximize'];
    const multi = [1, 2, 3, 4, 5].map((c, i) => trial(i, [[c, c]]));
    expect(median.shouldPrune(trial(10, [[9, 0]]), 1, { directions: dirs, history: multi })).toBe(true);
    expect(median.shouldPrune(trial(11, [[9, 9]]), 1, { directions: dirs, history: multi })).toBe(false);
    expect(median.shouldPrune(trial(12, [[0, 0]]), 1, { directions: dirs, history: multi })).toBe(false);
  });
});

describe('ASHA pruner', () => {
  const asha = createPruner({ type: 'asha', minResource: 1 });

  it('puts rungs at minResource·η^(s+k)', () => {
    const p = new AshaPruner({ minResource: 2, reductionFactor: 3, minEarlyStoppingRate: 1 });
    expect([0, 1, 2].map((k) => p.rungStep(k))).toEqual([6, 18, 54]);
  });

  it('promotes the top third at a rung and prunes the rest', () => {
    const values = [5, 3, 9, 1, 7, 2, 8, 4, 6];
    const trials = values.map((v, i) => trial(i, [v], 'running'));
    const pruned = trials.map((t) => asha.shouldPrune(t, 1, { directions: min, history: trials }));
    expect(values.filter((_, i) => !pruned[i])).toEqual([3, 1, 2]);
    expect(pruned).toEqual([true, false, true, false, true, false, true, true, true]);
  });

  it('lets the first arrivals at a rung through only if best so far', () => {
    const first = trial(0, [5], 'running');
    expect(asha.shouldPrune(first, 1, { directions: min, history: [first] })).toBe(false);
    const worse = trial(1, [6], 'running');
    expect(asha.shouldPrune(worse, 1, { directions: min, history: [first, worse] })).toBe(true);
    const better = trial(2, [4], 'running');
    expect(asha.shouldPrune(better, 1, { directions: min, history: [first, better] })).toBe(false);
  });

  it('judges each rung once, at the first report at or past it', () => {
    // Others reached step 3 with values 1..5; trial 9 was 0.5 at rung 1 and is 10 at rung 3.
    const others = [1, 2, 3, 4, 5].map((v, i) => trial(i, [v, v, v], 'complete'));
    const t = trial(9, [0.5, 10, 10], 'running');
    const ctx = { directions: min, history: [...others, t] };
    expect(asha.shouldPrune(t, 1, ctx)).toBe(false);
    expect(asha.shouldPrune(t, 2, ctx)).toBe(false);
    expect(asha.shouldPrune(t, 3, ctx)).toBe(true);
    // A trial that jumps from step 1 to step 10 is judged at rungs 3 and 9 with its step-10 value.
    const jumper: TrialRecord = {
      number: 10,
      params: {},
      state: 'running',
      intermediate: [
        { step: 1, values: [0.5] },
        { step: 10, values: [2] },
      ],
    };
    expect(asha.shouldPrune(jumper, 10, { directions: min, history: [...others, jumper] })).toBe(false);
    expect(
      asha.shouldPrune(
        {
          ...jumper,
          intermediate: [
            { step: 1, values: [0.5] },
            { step: 10, values: [3] },
          ],
        },
        10,
        {
          directions: min,
          history: others,
        },
      ),
    ).toBe(true);
  });

  it('respects the direction', () => {
    const trials = [1, 2, 3, 4, 5, 6].map((v, i) => trial(i, [v], 'running'));
    const kept = trials.filter((t) => !asha.shouldPrune(t, 1, { directions: ['maximize'], history: trials }));
    expect(kept.map((t) => t.number)).toEqual([4, 5]);
  });

  it('ranks several objectives by dominance, then crowding', () => {
    const dirs: Direction[] = ['minimize', 'minimize'];
    const others = [
      [1, 5],
      [5, 1],
      [4, 4],
      [6, 6],
      [5, 5],
    ].map((v, i) => trial(i, [v], 'running'));
    const judge = (v: number[], history = others): boolean =>
      asha.shouldPrune(trial(9, [v], 'running'), 1, { directions: dirs, history });
    // Six trials, ⌈6/3⌉ = 2 continue.
    expect(judge([0.5, 0.5])).toBe(false); // dominates everyone
    expect(judge([0.9, 9])).toBe(false); // best on one objective: an extreme of the front
    expect(judge([6, 7])).toBe(true); // dominated
    expect(judge([3, 3])).toBe(true); // on the front, but the two extremes are more spread
    // Among nine, three continue: the whole front of three does.
    const more = [
      ...others,
      ...[
        [7, 7],
        [8, 8],
        [9, 9],
      ].map((v, i) => trial(5 + i, [v], 'running')),
    ];
    expect(judge([3, 3], more)).toBe(false);
    // A single objective would have pruned the extreme [0.9, 9] on the second objective.
    const second = others.map((t) => ({
      ...t,
      intermediate: t.intermediate.map((r) => ({ ...r, values: [r.values[1] as number] })),
    }));
    expect(asha.shouldPrune(trial(9, [9], 'running'), 1, { directions: min, history: second })).toBe(true);
  });

  it('prunes a NaN at a rung and refuses a report of the wrong length', () => {
    expect(asha.shouldPrune(trial(0, [NaN], 'running'), 1, { directions: min, history: [] })).toBe(true);
    const err = errorOf(() =>
      asha.shouldPrune(trial(0, [[1, 2]], 'running'), 1, { directions: min, history: [] }),
    );
    expect(err.where.field).toBe('intermediate');
  });
});

describe('createPruner', () => {
  it('none never prunes', () => {
    const none = createPruner({ type: 'none' });
    expect(none.name).toBe('none');
    expect(none.shouldPrune(trial(0, [NaN]), 1, { directions: min, history: [] })).toBe(false);
  });

  it.each([
    [{ type: 'median', nStartupTrials: -1 }, 'pruner.nStartupTrials'],
    [{ type: 'median', nWarmupSteps: 1.5 }, 'pruner.nWarmupSteps'],
    [{ type: 'median', intervalSteps: 0 }, 'pruner.intervalSteps'],
    [{ type: 'asha', minResource: 0 }, 'pruner.minResource'],
    [{ type: 'asha', minResource: 1, reductionFactor: 1 }, 'pruner.reductionFactor'],
    [{ type: 'asha', minResource: 1, minEarlyStoppingRate: -1 }, 'pruner.minEarlyStoppingRate'],
    [{ type: 'hyperband' }, 'pruner.type'],
  ])('names a bad setting %#', (cfg, field) => {
    const err = errorOf(() => createPruner(cfg as PrunerConfig));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.where.field).toBe(field);
  });
});
