/**
 * The pruner seam: whether a running trial should stop after an intermediate report. Like samplers,
 * pruners keep no state: what Optuna stores on the trial (the rungs a trial passed) is re-derived
 * from the reports, so a restarted study judges exactly as before. Implementations live in `pruners/`.
 */
import { checkInteger, checkNumber } from './checks.js';
import { invalidArgument } from '../../common/errors.js';
import type { TrialRecord } from './history.js';
import { AshaPruner } from './pruners/asha.js';
import { MedianPruner } from './pruners/median.js';
import { NopPruner } from './pruners/none.js';
import type { Direction } from './space.js';

export interface PruneContext {
  /** Of the intermediate objectives, in the order of `TrialRecord.intermediate[].values`. */
  directions: Direction[];
  history: readonly TrialRecord[];
}

export interface Pruner {
  readonly name: string;
  /**
   * Called after `trial` reported intermediate values at `step` (already appended to
   * trial.intermediate). True: stop the trial now. Pure function of its inputs.
   */
  shouldPrune(trial: TrialRecord, step: number, ctx: PruneContext): boolean;
}

export type PrunerConfig =
  | { type: 'none' }
  | { type: 'median'; nStartupTrials?: number; nWarmupSteps?: number; intervalSteps?: number }
  | { type: 'asha'; minResource: number; reductionFactor?: number; minEarlyStoppingRate?: number };

/** Throws INVALID_ARGUMENT naming `${field}.<setting>` for a setting out of range. */
export function createPruner(cfg: PrunerConfig, field = 'pruner'): Pruner {
  switch (cfg.type) {
    case 'none':
      return new NopPruner();
    case 'median':
      return new MedianPruner({
        nStartupTrials: checkInteger(cfg.nStartupTrials ?? 5, 0, `${field}.nStartupTrials`),
        nWarmupSteps: checkInteger(cfg.nWarmupSteps ?? 0, 0, `${field}.nWarmupSteps`),
        intervalSteps: checkInteger(cfg.intervalSteps ?? 1, 1, `${field}.intervalSteps`),
      });
    case 'asha':
      return new AshaPruner({
        minResource: checkNumber(cfg.minResource, 0, Infinity, `${field}.minResource`),
        reductionFactor: checkInteger(cfg.reductionFactor ?? 3, 2, `${field}.reductionFactor`),
        minEarlyStoppingRate: checkInteger(cfg.minEarlyStoppingRate ?? 0, 0, `${field}.minEarlyStoppingRate`),
      });
    default: {
      const type: unknown = (cfg as { type: unknown }).type;
      throw invalidArgument(`unknown pruner ${JSON.stringify(type)}; expected none, median or asha`, {
        field: `${field}.type`,
      });
    }
  }
}
