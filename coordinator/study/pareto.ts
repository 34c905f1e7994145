/**
 * Comparing objective vectors: Pareto dominance, NSGA-II's non-dominated sorting and crowding
 * distance, and the best trials of a study. Values are compared as losses (a maximized objective is
 * negated) and NaN is worse than anything, so a diverged trial never ranks ahead of a finite one.
 */
import { invalidArgument } from '../../common/errors.js';
import { isRankable, type TrialRecord } from './history.js';
import type { Direction } from './space.js';

/** The value as something to minimize; NaN is the worst possible. */
export function lossOf(value: number, direction: Direction): number {
  if (Number.isNaN(value)) return Infinity;
  return direction === 'maximize' ? -value : value;
}

function lossVector(point: number[], directions: Direction[]): number[] {
  if (point.length !== directions.length) {
    throw invalidArgument(
      `an objective vector has ${point.length} values for ${directions.length} directions`,
      {
        field: 'directions',
      },
    );
  }
  return point.map((v, i) => lossOf(v, directions[i] as Direction));
}

function dominatesLoss(a: number[], b: number[]): boolean {
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x > y) return false;
    if (x < y) strictly = true;
  }
  return strictly;
}

/** `a` is no worse than `b` on every objective and better on one. */
export function dominates(a: number[], b: number[], directions: Direction[]): boolean {
  return dominatesLoss(lossVector(a, directions), lossVector(b, directions));
}

/** Rank per point: 0 for the Pareto front, 1 for the front once that is removed, and so on. */
export function nonDominatedSort(points: number[][], directions: Direction[]): number[] {
  const losses = points.map((p) => lossVector(p, directions));
  const n = losses.length;
  const dominated: number[][] = Array.from({ length: n }, () => []);
  const dominators = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominatesLoss(losses[i] as number[], losses[j] as number[])) {
        dominated[i]?.push(j);
        dominators[j]! += 1;
      } else if (dominatesLoss(losses[j] as number[], losses[i] as number[])) {
        dominated[j]?.push(i);
        dominators[i]! += 1;
      }
    }
  }
  const rank = new Array<number>(n).fill(-1);
  let front = dominators.flatMap((d, i) => (d === 0 ? [i] : []));
  for (let r = 0; front.length > 0; r++) {
    const next: number[] = [];
    for (const i of front) {
      rank[i] = r;
      for (const j of dominated[i] ?? []) {
        dominators[j]! -= 1;
        if (dominators[j] === 0) next.push(j);
      }
    }
    front = next;
  }
  return rank;
}

/**
 * NSGA-II crowding distance of `indices` (usually one front) within that subset: per objective the
 * extreme points get Infinity and the others the normalized gap between their neighbours, summed.
 * An objective on which the subset does not spread (all equal, or infinite) adds nothing, so equal
 * points tie instead of one of them becoming an arbitrary "extreme". Directions do not matter here.
 */
export function crowdingDistance(points: number[][], indices: number[]): Map<number, number> {
  const distance = new Map<number, number>(indices.map((i) => [i, 0]));
  const objectives = indices.length === 0 ? 0 : (points[indices[0] as number]?.length ?? 0);
  const value = (i: number, m: number): number => points[i]?.[m] ?? NaN;
  for (let m = 0; m < objectives; m++) {
    const sorted = indices
      .filter((i) => !Number.isNaN(value(i, m)))
      .sort((a, b) => value(a, m) - value(b, m) || a - b);
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    if (first === undefined || last === undefined) continue;
    const span = value(last, m) - value(first, m);
    if (!(span > 0) || !Number.isFinite(span)) continue;
    distance.set(first, Infinity);
    distance.set(last, Infinity);
    for (let k = 1; k < sorted.length - 1; k++) {
      const i = sorted[k] as number;
      const gap = (value(sorted[k + 1] as number, m) - value(sorted[k - 1] as number, m)) / span;
      distance.set(i, (distance.get(i) ?? 0) + gap);
    }
  }
  return distance;
}

/**
 * Point indices best first: by non-dominated rank, then by crowding distance within the rank (spread
 * out points first), then by index. With one objective this is simply the order of the values.
 */
export function orderByDominance(points: number[][], directions: Direction[]): number[] {
  const rank = nonDominatedSort(points, directions);
  const crowding = new Map<number, number>();
  const fronts = new Map<number, number[]>();
  rank.forEach((r, i) => fronts.set(r, [...(fronts.get(r) ?? []), i]));
  for (const members of fronts.values()) {
    for (const [i, d] of crowdingDistance(points, members)) crowding.set(i, d);
  }
  return points
    .map((_, i) => i)
    .sort(
      (a, b) =>
        (rank[a] as number) - (rank[b] as number) ||
        compareDesc(crowding.get(a) ?? 0, crowding.get(b) ?? 0) ||
        a - b,
    );
}

function compareDesc(a: number, b: number): number {
  return a === b ? 0 : a > b ? -1 : 1;
}

/** Complete trials with a value per objective on the Pareto front, by trial number. */
export function paretoFront(trials: readonly TrialRecord[], directions: Direction[]): TrialRecord[] {
  const rankable = trials.filter((t) => isRankable(t, directions.length));
  const rank = nonDominatedSort(
    rankable.map((t) => t.values as number[]),
    directions,
  );
  return rankable.filter((_, i) => rank[i] === 0).sort((a, b) => a.number - b.number);
}

/** Single objective: the complete trial with the best value (ties: the lower number). Several: undefined. */
export function best(trials: readonly TrialRecord[], directions: Direction[]): TrialRecord | undefined {
  const direction = directions[0];
  if (directions.length !== 1 || direction === undefined) return undefined;
  let found: TrialRecord | undefined;
  let foundLoss = Infinity;
  for (const t of trials) {
    if (!isRankable(t, 1) || Number.isNaN(t.values[0])) continue;
    const loss = lossOf(t.values[0] as number, direction);
    if (found === undefined || loss < foundLoss || (loss === foundLoss && t.number < found.number)) {
      found = t;
      foundLoss = loss;
    }
  }
  return found;
}
