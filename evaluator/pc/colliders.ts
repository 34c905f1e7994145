/**
 * Orientation of unshielded colliders x -> y <- z (x, z not adjacent), as causal-learn's
 * `UCSepset.uc_sepset`, `maxp` and `definite_maxp`.
 *
 * Rules - which unshielded triples are colliders:
 *   sepset:        y is not in the recorded separating set of x and z;
 *   maxp:          the largest p-value of x _||_ z | S over S not containing y exceeds the largest
 *                  over S containing y (S ranging over subsets of adj(x) and of adj(z));
 *   definite-maxp: like maxp, but only triples that are definitely colliders (no S containing y
 *                  separates) or definitely not (no S without y separates) are decided; the
 *                  definite non-colliders feed Meek's rules (meek.ts, `applyDefiniteMeekRules`).
 *
 * Priorities - what happens when colliders conflict (causal-learn's uc_priority 0..4):
 *   overwrite (0):     orient every collider, later ones overwriting earlier arrows;
 *   bidirected (1):    an edge a collider wants the other way becomes <->;
 *   existing (2):      apply a collider only if neither of its arrows is already oriented the other
 *                      way (y -> x or y -> z), so the first collider in causal-learn's order wins;
 *   stronger (3):      as existing, colliders visited by increasing max p-value of x _||_ z | S with
 *                      y in S (the most clearly dependent given y first);
 *   stronger-star (4): as existing, colliders visited by decreasing max p-value with y not in S.
 * Each rule has its own default (causal-learn's, used for priority `undefined`): sepset and maxp
 * stronger, definite-maxp stronger-star; definite-maxp accepts only existing, stronger and
 * stronger-star.
 */
import { invalidArgument, CrlError } from '../../common/errors.js';
import type { CiTest } from '../ci/ci-test.js';
import type { Background } from './background.js';
import type { Pdag } from './pdag.js';
import type { Sepsets } from './sepsets.js';
import { unshieldedTriples, type Triple } from './triples.js';

export const COLLIDER_RULES = ['sepset', 'maxp', 'definite-maxp'] as const;
export type ColliderRule = (typeof COLLIDER_RULES)[number];

/** In causal-learn's numbering: index k is uc_priority k. */
export const COLLIDER_PRIORITIES = [
  'overwrite',
  'bidirected',
  'existing',
  'stronger',
  'stronger-star',
] as const;
export type ColliderPriority = (typeof COLLIDER_PRIORITIES)[number];

/** Each rule's own default priority, as the defaults of causal-learn's uc_sepset / maxp / definite_maxp. */
export const RULE_DEFAULT_PRIORITY: Readonly<Record<ColliderRule, ColliderPriority>> = {
  sepset: 'stronger',
  maxp: 'stronger',
  'definite-maxp': 'stronger-star',
};

/** causal-learn's integer uc_priority (-1 = the rule's default) as a priority name, or undefined for -1. */
export function priorityFromCausalLearn(code: number): ColliderPriority | undefined {
  if (code === -1) return undefined;
  const p = COLLIDER_PRIORITIES[code];
  if (p === undefined || !Number.isInteger(code)) {
    throw invalidArgument(`uc_priority must be one of -1, 0, 1, 2, 3, 4, got ${code}`);
  }
  return p;
}

export interface ColliderOptions {
  rule: ColliderRule;
  /** Conflict handling; undefined means the rule's default (RULE_DEFAULT_PRIORITY). */
  priority?: ColliderPriority | undefined;
  sepsets: Sepsets;
  /** Needed by maxp, definite-maxp and the stronger priorities, which run further CI tests. */
  test: CiTest;
  alpha: number;
  background?: Background | undefined;
}

export interface ColliderResult {
  graph: Pdag;
  /** definite-maxp only: the colliders it oriented. */
  definiteColliders: Triple[];
  /** definite-maxp only: triples decided to be non-colliders. */
  definiteNonColliders: Triple[];
}

/** Largest number of conditioning sets maxp may enumerate for one triple (2^20). */
const MAX_COND_SETS = 1 << 20;

/** Orients unshielded colliders of `skeleton` (unchanged; a new graph is returned). */
export function orientColliders(skeleton: Pdag, options: ColliderOptions): ColliderResult {
  const priority = options.priority ?? RULE_DEFAULT_PRIORITY[options.rule];
  const g = skeleton.clone();
  const triples = unshieldedTriples(g).filter(([x, , z]) => x < z);
  switch (options.rule) {
    case 'sepset':
      return sepsetRule(g, triples, priority, options);
    case 'maxp':
      return maxpRule(g, triples, priority, options);
    case 'definite-maxp':
      return definiteMaxpRule(g, triples, priority, options);
  }
}

function sepsetRule(
  g: Pdag,
  triples: Triple[],
  priority: ColliderPriority,
  o: ColliderOptions,
): ColliderResult {
  const queued: Triple[] = [];
  for (const t of triples) {
    const [x, y, z] = t;
    if (blocked(o.background, x, y, z)) continue;
    if (o.sepsets.contains(x, z, y)) continue;
    if (!applyImmediately(g, t, priority)) queued.push(t);
  }
  if (priority === 'stronger' || priority === 'stronger-star') {
    const withY = priority === 'stronger';
    const scored = queued.map((t) => ({ t, score: maxPValue(g, t, withY, o.test) }));
    applyRanked(g, scored, priority, o.background);
  }
  return { graph: g, definiteColliders: [], definiteNonColliders: [] };
}

function maxpRule(
  g: Pdag,
  triples: Triple[],
  priority: ColliderPriority,
  o: ColliderOptions,
): ColliderResult {
  const scored: { t: Triple; score: number }[] = [];
  for (const t of triples) {
    const [x, y, z] = t;
    if (blocked(o.background, x, y, z)) continue;
    const withY = maxPValue(g, t, true, o.test);
    const withoutY = maxPValue(g, t, false, o.test);
    if (!(withoutY > withY)) continue;
    if (!applyImmediately(g, t, priority))
      scored.push({ t, score: priority === 'stronger' ? withY : withoutY });
  }
  if (priority === 'stronger' || priority === 'stronger-star') applyRanked(g, scored, priority, o.background);
  return { graph: g, definiteColliders: [], definiteNonColliders: [] };
}

function definiteMaxpRule(
  g: Pdag,
  triples: Triple[],
  priority: ColliderPriority,
  o: ColliderOptions,
): ColliderResult {
  if (priority !== 'existing' && priority !== 'stronger' && priority !== 'stronger-star') {
    throw invalidArgument(
      `the definite-maxp rule supports priorities existing (2), stronger (3) and stronger-star (4), not ${priority}`,
      { field: '--uc-priority' },
    );
  }
  const candidates: { t: Triple; score: number }[] = [];
  const definiteNonColliders: Triple[] = [];
  for (const t of triples) {
    const [x, y, z] = t;
    const { withY, withoutY } = condSets(g, x, z, y);
    let maxWith = 0;
    let maxWithout = 0;
    let collider = true;
    let nonCollider = true;
    for (const s of withY) {
      const p = o.test.test(x, z, s);
      if (p > o.alpha) {
        collider = false;
        break;
      } else if (p > maxWith) maxWith = p;
    }
    for (const s of withoutY) {
      const p = o.test.test(x, z, s);
      if (p > o.alpha) {
        nonCollider = false;
        if (!collider) break; // ambiguous either way
      }
      if (p > maxWithout) maxWithout = p;
    }
    const score = priority === 'stronger-star' ? maxWithout : maxWith;
    if (collider) {
      if (nonCollider && !(maxWithout > maxWith)) definiteNonColliders.push(t);
      else candidates.push({ t, score });
    } else if (nonCollider) definiteNonColliders.push(t);
  }
  if (priority === 'stronger') candidates.sort((a, b) => a.score - b.score);
  else if (priority === 'stronger-star') candidates.sort((a, b) => b.score - a.score);
  const definiteColliders: Triple[] = [];
  for (const { t } of candidates) {
    const [x, y, z] = t;
    if (blocked(o.background, x, y, z)) continue;
    if (!g.isDirected(y, x) && !g.isDirected(y, z)) {
      g.setDirected(x, y);
      g.setDirected(z, y);
      definiteColliders.push(t);
    }
  }
  return { graph: g, definiteColliders, definiteNonColliders };
}

/** Background knowledge vetoes x -> y <- z when either arrow is forbidden or its reverse required. */
function blocked(bk: Background | undefined, x: number, y: number, z: number): boolean {
  return (
    bk !== undefined &&
    (bk.isForbidden(x, y) || bk.isForbidden(z, y) || bk.isRequired(y, x) || bk.isRequired(y, z))
  );
}

/**
 * Applies a collider under the priorities decided on the spot (overwrite, bidirected, existing);
 * returns false for the ranked priorities, whose colliders wait to be sorted.
 */
function applyImmediately(g: Pdag, [x, y, z]: Triple, priority: ColliderPriority): boolean {
  switch (priority) {
    case 'overwrite':
      g.setDirected(x, y);
      g.setDirected(z, y);
      return true;
    case 'bidirected':
      arrowOrBidirected(g, x, y);
      arrowOrBidirected(g, z, y);
      return true;
    case 'existing':
      if (!g.isDirected(y, x) && !g.isDirected(y, z)) {
        g.setDirected(x, y);
        g.setDirected(z, y);
      }
      return true;
    default:
      return false;
  }
}

/** a --- y becomes a -> y; y -> a becomes a <-> y; a -> y and a <-> y stay. */
function arrowOrBidirected(g: Pdag, a: number, y: number): void {
  if (g.isUndirected(a, y)) g.setDirected(a, y);
  else if (g.isDirected(y, a)) g.setBidirected(a, y);
}

/** Sorts (stably) and applies ranked colliders with the "existing" check. */
function applyRanked(
  g: Pdag,
  scored: { t: Triple; score: number }[],
  priority: ColliderPriority,
  bk: Background | undefined,
): void {
  scored.sort(priority === 'stronger' ? (a, b) => a.score - b.score : (a, b) => b.score - a.score);
  for (const { t } of scored) {
    const [x, y, z] = t;
    if (blocked(bk, x, y, z)) continue;
    if (!g.isDirected(y, x) && !g.isDirected(y, z)) {
      g.setDirected(x, y);
      g.setDirected(z, y);
    }
  }
}

/** max p of x _||_ z | S over the conditioning sets that contain y (withY) or do not. */
function maxPValue(g: Pdag, [x, y, z]: Triple, withY: boolean, test: CiTest): number {
  const sets = condSets(g, x, z, y);
  let best = Number.NEGATIVE_INFINITY;
  for (const s of withY ? sets.withY : sets.withoutY) best = Math.max(best, test.test(x, z, s));
  return best;
}

/**
 * causal-learn's `find_cond_sets_with_mid` / `_without_mid`: every subset of adj(x) and every
 * subset of adj(z) (deduplicated), split by whether it contains y.
 */
function condSets(g: Pdag, x: number, z: number, y: number): { withY: number[][]; withoutY: number[][] } {
  const withY: number[][] = [];
  const withoutY: number[][] = [];
  const seen = new Set<string>();
  for (const base of [g.neighbors(x), g.neighbors(z)]) {
    if (2 ** base.length > MAX_COND_SETS) {
      throw new CrlError(
        'FAILED_PRECONDITION',
        `maxp would test all ${2 ** base.length} subsets of a node's ${base.length} neighbours; ` +
          'use the sepset rule, or a smaller alpha for a sparser skeleton',
      );
    }
    const total = 1 << base.length;
    for (let mask = 0; mask < total; mask++) {
      const s: number[] = [];
      for (let b = 0; b < base.length; b++) if (mask & (1 << b)) s.push(base[b] as number);
      const key = s.join('.');
      if (seen.has(key)) continue;
      seen.add(key);
      (s.includes(y) ? withY : withoutY).push(s);
    }
  }
  return { withY, withoutY };
}
