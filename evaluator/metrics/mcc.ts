/**
 * Mean correlation coefficient (paper, appendix D.4): correlate every true latent with every
 * estimated one, find the one-to-one matching that maximises the total |corr| (exact linear sum
 * assignment on -|corr|), and average |corr| over the matched pairs. It is invariant to the
 * permutation, sign and scale indeterminacies of identifiability results, and with Spearman also
 * to monotone per-component transforms.
 *
 * With unequal numbers of columns the matching pairs min(n_truth, n_estimate) of them and the
 * mean runs over those pairs only: surplus columns on either side neither help nor hurt, so a
 * model that recovers 3 of 4 factors perfectly scores 1 on them. The counts and the unmatched
 * names are reported so that such a result cannot be mistaken for full recovery.
 */
import type { Table } from '../../common/matrix.js';
import { linearSumAssignment } from './assignment.js';
import { correlationMatrix, type CorrelationMethod } from './correlation.js';
import {
  resolveGroups,
  requireSameRows,
  splitByGroups,
  type InputLabels,
  type ModalityGroups,
} from './inputs.js';

export interface MccOptions {
  /** Default 'pearson'. */
  method?: CorrelationMethod;
  /**
   * Per-modality scores: 'auto' (default) uses the `z<m>_<i>` column names when both tables
   * follow them; an explicit grouping names the truth and estimate columns of each modality;
   * 'none' skips them.
   */
  groups?: 'auto' | 'none' | ModalityGroups;
  /** Input names (typically file paths) for error messages. */
  labels?: InputLabels;
}

export interface MatchedPair {
  readonly truth: string;
  readonly estimate: string;
  /** Signed correlation of the pair; the score uses its absolute value. */
  readonly corr: number;
}

export interface MccScore {
  /** Mean |corr| over the matched pairs, in [0, 1]. */
  readonly mcc: number;
  readonly n_truth: number;
  readonly n_estimate: number;
  readonly n_matched: number;
  /** Matched pairs in truth-column order. */
  readonly matching: readonly MatchedPair[];
  /** Truth columns left without a partner (only when there are fewer estimate columns). */
  readonly unmatched_truth: readonly string[];
  /** Estimate columns left without a partner (only when there are more estimate columns). */
  readonly unmatched_estimate: readonly string[];
}

export interface MccResult extends MccScore {
  readonly method: CorrelationMethod;
  readonly n_rows: number;
  /** One score per modality, matching truth block m against estimate block m only. */
  readonly per_modality?: Readonly<Record<string, MccScore>>;
}

/**
 * MCC between true latents `truth` and estimated latents `estimate` (rows paired by position):
 * a global score with one matching over all columns, plus per-modality scores when modality
 * blocks are known (see `MccOptions.groups`).
 *
 * @throws CrlError (INVALID_ARGUMENT) for differing row counts, a constant column, or a grouping
 *   that names unknown columns
 */
export function mcc(truth: Table, estimate: Table, options: MccOptions = {}): MccResult {
  const method = options.method ?? 'pearson';
  const labels = options.labels ?? {};
  requireSameRows(truth, estimate, labels);
  const global = mccScore(truth, estimate, method, labels);
  const groups = resolveGroups(options.groups, truth, estimate);
  const result: MccResult = { mcc: global.mcc, method, n_rows: truth.nRows, ...withoutMcc(global) };
  if (groups === undefined) return result;
  const perModality: Record<string, MccScore> = {};
  for (const block of splitByGroups(truth, estimate, groups, labels)) {
    perModality[block.modality] = mccScore(block.truth, block.estimate, method, labels);
  }
  return { ...result, per_modality: perModality };
}

/**
 * The pairs a result stands for: estimated latents of modality m stand only for true latents of
 * modality m, so the per-modality matchings when there are blocks, else the global one.
 */
export function blockMatching(result: MccResult): MatchedPair[] {
  const blocks = Object.values(result.per_modality ?? {});
  return blocks.length > 0 ? blocks.flatMap((s) => s.matching) : [...result.matching];
}

/** The relabelling `{estimate name -> truth name}` that an MCC matching implies (for SHD). */
export function matchingToRelabel(matching: readonly MatchedPair[]): Record<string, string> {
  return Object.fromEntries(matching.map((p) => [p.estimate, p.truth]));
}

function mccScore(truth: Table, estimate: Table, method: CorrelationMethod, labels: InputLabels): MccScore {
  const corr = correlationMatrix(truth, estimate, {
    method,
    labels: { a: labels.truth, b: labels.estimate },
  });
  const pt = truth.columns.length;
  const pe = estimate.columns.length;
  const cost = new Float64Array(pt * pe);
  for (let k = 0; k < cost.length; k++) cost[k] = -Math.abs(corr.data[k] as number);
  const assignment = linearSumAssignment({ rows: pt, cols: pe, data: cost });
  const matching = assignment.pairs.map(([i, j]) => ({
    truth: truth.columns[i] as string,
    estimate: estimate.columns[j] as string,
    corr: corr.data[i * pe + j] as number,
  }));
  const sum = matching.reduce((s, p) => s + Math.abs(p.corr), 0);
  return {
    mcc: matching.length > 0 ? sum / matching.length : 0,
    n_truth: pt,
    n_estimate: pe,
    n_matched: matching.length,
    matching,
    unmatched_truth: truth.columns.filter((_, i) => (assignment.rowToCol[i] as number) < 0),
    unmatched_estimate: estimate.columns.filter((_, j) => (assignment.colToRow[j] as number) < 0),
  };
}

function withoutMcc(score: MccScore): Omit<MccScore, 'mcc'> {
  const { mcc: _mcc, ...rest } = score;
  return rest;
}
