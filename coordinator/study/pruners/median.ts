/**
 * Optuna's MedianPruner: stop a trial whose best intermediate value so far is worse than the median
 * of the other trials' values at the same step. Checkpoints are the steps warmup + k·interval; a
 * trial is judged at its first report at or past each one (so a trial that reports every 7 steps is
 * still judged). The others are complete and pruned trials, each standing in with its last report at
 * or before the step; running trials are too fresh to be a yardstick and failed ones are broken.
 * With several intermediate objectives a trial is pruned only if it is worse than the median on
 * every one: a trial that trades one objective for another may be heading for the Pareto front.
 * A trial whose best value is NaN on any objective has diverged and is pruned (as Optuna does).
 */
import { reportAtOrBefore, type TrialRecord } from '../history.js';
import { lossOf } from '../pareto.js';
import type { Pruner, PruneContext } from '../pruner.js';

export interface MedianOptions {
  /** Judge nothing until this many trials are complete. */
  nStartupTrials: number;
  /** Judge no report before this step. */
  nWarmupSteps: number;
  intervalSteps: number;
}

export class MedianPruner implements Pruner {
  readonly name = 'median';

  constructor(private readonly options: MedianOptions) {}

  shouldPrune(trial: TrialRecord, step: number, ctx: PruneContext): boolean {
    const { nStartupTrials, nWarmupSteps } = this.options;
    const others = ctx.history.filter((t) => t.number !== trial.number);
    const completed = others.filter((t) => t.state === 'complete').length;
    if (completed === 0 || completed < nStartupTrials) return false;
    if (step < nWarmupSteps || !this.firstAtCheckpoint(trial, step)) return false;
    const own = trial.intermediate.filter((r) => r.step <= step);
    if (own.length === 0 || ctx.directions.length === 0) return false;
    const peers = others.filter((t) => t.state === 'complete' || t.state === 'pruned');
    let worseOnAll = true;
    for (const [j, direction] of ctx.directions.entries()) {
      const ownValues = own.map((r) => r.values[j] ?? NaN).filter((v) => !Number.isNaN(v));
      if (ownValues.length === 0) return true;
      const bestLoss = Math.min(...ownValues.map((v) => lossOf(v, direction)));
      const median = medianOf(
        peers.flatMap((t) => {
          const v = reportAtOrBefore(t, step)?.values[j];
          return v === undefined || Number.isNaN(v) ? [] : [lossOf(v, direction)];
        }),
      );
      if (median === undefined || !(bestLoss > median)) worseOnAll = false;
    }
    return worseOnAll;
  }

  /** Optuna's `_is_first_in_interval_step`: no earlier report reached the latest checkpoint. */
  private firstAtCheckpoint(trial: TrialRecord, step: number): boolean {
    const { nWarmupSteps, intervalSteps } = this.options;
    const checkpoint = Math.floor((step - nWarmupSteps) / intervalSteps) * intervalSteps + nWarmupSteps;
    const previous = Math.max(-1, ...trial.intermediate.filter((r) => r.step < step).map((r) => r.step));
    return previous < checkpoint;
  }
}

function medianOf(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
