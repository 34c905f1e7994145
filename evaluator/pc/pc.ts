/**
 * The PC algorithm: adjacency search, background orientations, unshielded colliders, Meek's rules.
 * Every default lives here (PC_DEFAULTS), chosen so that `pc(new FisherZTest(table))` reproduces
 * causal-learn's `pc(data, 0.05, fisherz, stable=True, uc_rule=0, uc_priority=2)` edge for edge.
 */
import { invalidArgument } from '../../common/errors.js';
import type { Table } from '../../common/matrix.js';
import type { CiTest } from '../ci/ci-test.js';
import { createCiTest, type CiTestKind } from '../ci/registry.js';
import type { Background } from './background.js';
import {
  orientColliders,
  RULE_DEFAULT_PRIORITY,
  type ColliderPriority,
  type ColliderRule,
} from './colliders.js';
import { applyDefiniteMeekRules, applyMeekRules } from './meek.js';
import { orientByBackground } from './orient-background.js';
import type { Pdag } from './pdag.js';
import type { Sepsets } from './sepsets.js';
import { discoverSkeleton } from './skeleton.js';
import type { Triple } from './triples.js';

export interface PcOptions {
  /** Significance level; independence is accepted when p > alpha. Default 0.05. */
  alpha?: number;
  /** Order-independent skeleton search. Default true. */
  stable?: boolean;
  /** How unshielded colliders are found. Default 'sepset'. */
  ucRule?: ColliderRule;
  /**
   * How conflicting colliders are resolved. Default 'existing' (causal-learn's pc() default,
   * uc_priority = 2); 'rule-default' means the rule's own default (uc_priority = -1).
   */
  ucPriority?: ColliderPriority | 'rule-default';
  /** Largest conditioning-set size. Default Infinity (no limit). */
  maxK?: number;
  background?: Background | undefined;
  /** Apply Meek's rule 4. Default: true exactly when background knowledge is given. */
  meekRule4?: boolean;
}

export const PC_DEFAULTS = Object.freeze({
  alpha: 0.05,
  stable: true,
  ucRule: 'sepset' as ColliderRule,
  ucPriority: 'existing' as ColliderPriority,
  maxK: Number.POSITIVE_INFINITY,
  test: 'fisherz' as CiTestKind,
});

export interface ResolvedPcOptions {
  alpha: number;
  stable: boolean;
  ucRule: ColliderRule;
  ucPriority: ColliderPriority;
  maxK: number;
  meekRule4: boolean;
}

export interface PcResult {
  /** The output CPDAG (a PDAG when the data are unfaithful or background knowledge orients). */
  graph: Pdag;
  /** The undirected skeleton before any orientation. */
  skeleton: Pdag;
  sepsets: Sepsets;
  /** Distinct CI tests computed during this run. */
  ciTests: number;
  /** Largest conditioning-set size tested. */
  depth: number;
  /** definite-maxp only. */
  definiteColliders: Triple[];
  definiteNonColliders: Triple[];
  options: ResolvedPcOptions;
}

/** Fills in defaults and validates; throws INVALID_ARGUMENT naming the bad option. */
export function resolvePcOptions(options: PcOptions = {}): ResolvedPcOptions {
  const alpha = options.alpha ?? PC_DEFAULTS.alpha;
  if (!(alpha > 0 && alpha < 1))
    throw invalidArgument(`alpha must be in (0, 1), got ${alpha}`, { field: 'alpha' });
  const maxK = options.maxK ?? PC_DEFAULTS.maxK;
  if (!(maxK === Number.POSITIVE_INFINITY || (Number.isInteger(maxK) && maxK >= 0))) {
    throw invalidArgument(`maxK must be a non-negative integer, got ${maxK}`, { field: 'maxK' });
  }
  const ucRule = options.ucRule ?? PC_DEFAULTS.ucRule;
  const requested = options.ucPriority ?? PC_DEFAULTS.ucPriority;
  const ucPriority = requested === 'rule-default' ? RULE_DEFAULT_PRIORITY[ucRule] : requested;
  return {
    alpha,
    stable: options.stable ?? PC_DEFAULTS.stable,
    ucRule,
    ucPriority,
    maxK,
    meekRule4: options.meekRule4 ?? options.background !== undefined,
  };
}

/** Runs PC with the given CI test over its variables. */
export function pc(test: CiTest, options: PcOptions = {}): PcResult {
  const o = resolvePcOptions(options);
  const bk = options.background;
  if (bk && (bk.n !== test.nVars || bk.names.some((name, i) => name !== test.names[i]))) {
    throw invalidArgument('background knowledge was built for different variables than the data', {
      field: 'background',
    });
  }
  const before = test.testsRun;
  const {
    graph: skeleton,
    sepsets,
    depth,
  } = discoverSkeleton(test, {
    alpha: o.alpha,
    stable: o.stable,
    maxK: o.maxK,
    background: bk,
  });
  const start = bk ? orientByBackground(skeleton, bk) : skeleton;
  const colliders = orientColliders(start, {
    rule: o.ucRule,
    priority: o.ucPriority,
    sepsets,
    test,
    alpha: o.alpha,
    background: bk,
  });
  let graph = colliders.graph;
  if (o.ucRule === 'definite-maxp') {
    graph = applyDefiniteMeekRules(graph, colliders.definiteColliders, colliders.definiteNonColliders, {
      background: bk,
    });
  }
  graph = applyMeekRules(graph, { background: bk, r4: o.meekRule4 });
  return {
    graph,
    skeleton,
    sepsets,
    ciTests: test.testsRun - before,
    depth,
    definiteColliders: colliders.definiteColliders,
    definiteNonColliders: colliders.definiteNonColliders,
    options: o,
  };
}

export interface PcTableOptions extends PcOptions {
  /** CI test. Default 'fisherz'. */
  test?: CiTestKind;
}

/** Runs PC on the columns of a table with a CI test chosen by name. */
export function pcOnTable(table: Table, options: PcTableOptions = {}): PcResult {
  resolvePcOptions(options);
  return pc(createCiTest(options.test ?? PC_DEFAULTS.test, table), options);
}
