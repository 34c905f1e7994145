/**
 * The PC options `crl pc` and `crl analyze` share (significance level, CI test, stable skeleton,
 * collider rule and priority), with one set of defaults.
 */
import type { Command } from 'commander';
import { CI_TEST_KINDS, type CiTestKind } from '../evaluator/ci/index.js';
import {
  COLLIDER_RULES,
  PC_DEFAULTS,
  priorityFromCausalLearn,
  readBackground,
  type ColliderRule,
  type PcOptions,
  type ResolvedPcOptions,
} from '../evaluator/pc/index.js';
import { booleanFlag, choiceFlag, integerFlag, numberFlag } from './options.js';

export function pcFlags(cmd: Command): Command {
  return cmd
    .option(
      '--alpha <a>',
      'significance level; independent when p > alpha',
      numberFlag('--alpha', { min: 0, max: 1, exclusiveMin: true }),
      PC_DEFAULTS.alpha,
    )
    .option('--test <t>', CI_TEST_KINDS.join(' or '), choiceFlag('--test', CI_TEST_KINDS), PC_DEFAULTS.test)
    .option(
      '--stable <bool>',
      'order-independent skeleton search',
      booleanFlag('--stable'),
      PC_DEFAULTS.stable,
    )
    .option(
      '--uc-rule <r>',
      COLLIDER_RULES.join(', '),
      choiceFlag('--uc-rule', COLLIDER_RULES),
      PC_DEFAULTS.ucRule,
    )
    .option(
      '--uc-priority <n>',
      "collider conflicts, causal-learn's codes: 0 overwrite, 1 bidirected, 2 existing (default), " +
        "3 stronger, 4 stronger*, -1 the rule's own default",
      integerFlag('--uc-priority', { min: -1, max: 4 }),
    );
}

/** What `pcFlags` parses. */
export interface PcFlagValues {
  alpha: number;
  test: CiTestKind;
  stable: boolean;
  ucRule: ColliderRule;
  ucPriority?: number;
  background?: string;
}

/** PC options from the shared flags; `names` are the variables the background file may name. */
export function pcOptionsOf(
  flags: PcFlagValues,
  names: readonly string[],
  maxK: number | undefined,
): PcOptions {
  return {
    alpha: flags.alpha,
    stable: flags.stable,
    ucRule: flags.ucRule,
    ...(flags.ucPriority !== undefined
      ? { ucPriority: priorityFromCausalLearn(flags.ucPriority) ?? 'rule-default' }
      : {}),
    ...(maxK !== undefined ? { maxK } : {}),
    ...(flags.background !== undefined ? { background: readBackground(flags.background, names) } : {}),
  };
}

/** What a written PC graph records about how it was found (both commands write the same keys). */
export interface PcProvenance {
  test: CiTestKind;
  alpha: number;
  stable: boolean;
  uc_rule: ColliderRule;
  uc_priority: ResolvedPcOptions['ucPriority'];
  max_k: number | null;
  ci_tests: number;
  rows: number;
  data: string;
}

export function pcProvenance(
  test: CiTestKind,
  resolved: ResolvedPcOptions,
  ciTests: number,
  rows: number,
  data: string,
): PcProvenance {
  return {
    test,
    alpha: resolved.alpha,
    stable: resolved.stable,
    uc_rule: resolved.ucRule,
    uc_priority: resolved.ucPriority,
    max_k: Number.isFinite(resolved.maxK) ? resolved.maxK : null,
    ci_tests: ciTests,
    rows,
    data,
  };
}
