/**
 * TPE's split of finished trials into a good group, modelled by l(x), and a bad one, modelled by
 * g(x). Following Optuna's `_split_trials`, the good group is filled from complete trials first, best
 * first; pruned trials are bad unless there are too few complete trials to fill it, in which case
 * the pruned ones that got furthest (then had the better last intermediate value) fill the gap.
 * Several objectives rank complete trials by non-dominated rank, then crowding distance: a
 * simplification of MOTPE, which breaks ties on the boundary front by hypervolume contribution.
 */
import { isRankable, lastReport, type TrialRecord } from '../history.js';
import { lossOf, orderByDominance } from '../pareto.js';
import type { Direction } from '../space.js';

export interface Split {
  /** Both by trial number, which the estimators' weights rely on. */
  good: TrialRecord[];
  bad: TrialRecord[];
}

/** Optuna's default gamma: ceil(gamma·n) good trials, at most 25. */
export function goodCount(n: number, gamma: number): number {
  return Math.min(Math.ceil(gamma * n), 25);
}

/** `trials` are the complete (rankable) and pruned trials; others are ignored. */
export function splitTrials(
  trials: readonly TrialRecord[],
  nGood: number,
  directions: Direction[],
  intermediateDirections: Direction[],
): Split {
  const complete = trials.filter((t) => isRankable(t, directions.length));
  const pruned = trials.filter((t) => t.state === 'pruned');
  const order = orderByDominance(
    complete.map((t) => t.values as number[]),
    directions,
  );
  const rankedComplete = order.map((i) => complete[i] as TrialRecord);
  const rankedPruned = [...pruned].sort(prunedOrder(intermediateDirections[0] ?? 'minimize'));
  const nComplete = Math.min(nGood, rankedComplete.length);
  const nPruned = Math.min(nGood - nComplete, rankedPruned.length);
  const good = [...rankedComplete.slice(0, nComplete), ...rankedPruned.slice(0, nPruned)];
  const bad = [...rankedComplete.slice(nComplete), ...rankedPruned.slice(nPruned)];
  const byNumber = (a: TrialRecord, b: TrialRecord): number => a.number - b.number;
  return { good: good.sort(byNumber), bad: bad.sort(byNumber) };
}

/** Furthest last step first, then the better last value of the first intermediate objective. */
function prunedOrder(direction: Direction): (a: TrialRecord, b: TrialRecord) => number {
  const key = (t: TrialRecord): [number, number] => {
    const last = lastReport(t);
    if (last === undefined) return [-Infinity, Infinity];
    return [last.step, lossOf(last.values[0] ?? NaN, direction)];
  };
  return (a, b) => {
    const [stepA, lossA] = key(a);
    const [stepB, lossB] = key(b);
    return stepB - stepA || lossA - lossB || a.number - b.number;
  };
}
