/**
 * Asynchronous successive halving (Li et al. 2018), as Optuna's SuccessiveHalvingPruner. Rung k sits
 * at step minResource·η^(s+k). When a trial first reports at or past a rung it is judged there
 * against every other trial, in any state, that reached the rung, each with the value of its own
 * first report at or past it. The trial continues if it is among the top ⌈n/η⌉ of the n trials at the
 * rung, itself included — so the first trial at a rung always continues, as does any trial while
 * n ≤ η that is the best so far. (Optuna keeps the top max(1, ⌊n/η⌋); ⌈n/η⌉ is a little more lenient
 * early on and the same once n is a multiple of η.) Ties go to the trial being judged.
 * With several intermediate objectives the trials at a rung are ranked by non-dominated sorting,
 * then crowding distance within a front: a trial survives by being on a good front, not by one
 * objective, which is what lets a study prune towards a Pareto front.
 * A trial whose value at the rung is NaN is pruned.
 */
import { invalidArgument } from '../../../common/errors.js';
import { reportAtOrAfter, type TrialRecord } from '../history.js';
import { crowdingDistance, nonDominatedSort } from '../pareto.js';
import type { Pruner, PruneContext } from '../pruner.js';
import type { Direction } from '../space.js';

export interface AshaOptions {
  minResource: number;
  reductionFactor: number;
  minEarlyStoppingRate: number;
}

export class AshaPruner implements Pruner {
  readonly name = 'asha';

  constructor(private readonly options: AshaOptions) {}

  /** Step of rung `k`. */
  rungStep(k: number): number {
    const { minResource, reductionFactor, minEarlyStoppingRate } = this.options;
    return minResource * reductionFactor ** (minEarlyStoppingRate + k);
  }

  shouldPrune(trial: TrialRecord, step: number, ctx: PruneContext): boolean {
    const current = trial.intermediate.find((r) => r.step === step);
    if (current === undefined) return false;
    if (current.values.length !== ctx.directions.length) {
      throw invalidArgument(
        `trial ${trial.number} reported ${current.values.length} values at step ${step} for ${ctx.directions.length} intermediate objectives`,
        { field: 'intermediate' },
      );
    }
    const previous = Math.max(
      -Infinity,
      ...trial.intermediate.filter((r) => r.step < step).map((r) => r.step),
    );
    // Rungs at or below an earlier report were judged then; a report may jump past several rungs.
    let k = 0;
    while (this.rungStep(k) <= previous) k++;
    for (; this.rungStep(k) <= step; k++) {
      if (current.values.some((v) => Number.isNaN(v))) return true;
      const rung = this.rungStep(k);
      const competitors = ctx.history.flatMap((t) => {
        if (t.number === trial.number) return [];
        const values = reportAtOrAfter(t, rung)?.values;
        return values !== undefined && values.length === ctx.directions.length ? [values] : [];
      });
      if (
        !promotable(
          [...competitors, current.values],
          competitors.length,
          ctx.directions,
          this.options.reductionFactor,
        )
      ) {
        return true;
      }
    }
    return false;
  }
}

/** Whether point `self` is in the top ⌈n/η⌉ of `points`, counting only points strictly ahead of it. */
function promotable(points: number[][], self: number, directions: Direction[], eta: number): boolean {
  const keep = Math.max(1, Math.ceil(points.length / eta));
  const rank = nonDominatedSort(points, directions);
  const selfRank = rank[self] as number;
  const front = rank.flatMap((r, i) => (r === selfRank ? [i] : []));
  const crowding = crowdingDistance(points, front);
  const selfCrowding = crowding.get(self) ?? 0;
  let ahead = 0;
  for (let i = 0; i < points.length; i++) {
    if (i === self) continue;
    const r = rank[i] as number;
    if (r < selfRank || (r === selfRank && (crowding.get(i) ?? 0) > selfCrowding)) ahead++;
  }
  return ahead < keep;
}
