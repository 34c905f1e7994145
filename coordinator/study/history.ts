/**
 * A study's trials as samplers and pruners see them: plain records, rebuilt from storage on every
 * call, so neither keeps state of its own and a restarted study picks up where it stopped.
 */
import type { ParamAssignment } from './space.js';

export type TrialOutcome = 'running' | 'complete' | 'pruned' | 'failed';

export interface IntermediateReport {
  step: number;
  /** In the order of the study's intermediate objectives. */
  values: number[];
}

export interface TrialRecord {
  /** 0-based trial number in the study. */
  number: number;
  params: ParamAssignment;
  state: TrialOutcome;
  /** Final objective values in the study's objective order (complete trials). */
  values?: number[];
  /** Ascending steps. */
  intermediate: IntermediateReport[];
}

/** The report that stands for `step`: the last one at or before it (trials report at their own pace). */
export function reportAtOrBefore(trial: TrialRecord, step: number): IntermediateReport | undefined {
  let found: IntermediateReport | undefined;
  for (const r of trial.intermediate)
    if (r.step <= step && (found === undefined || r.step > found.step)) found = r;
  return found;
}

/** The first report at or past `step`: where a trial that skipped over `step` is judged for it. */
export function reportAtOrAfter(trial: TrialRecord, step: number): IntermediateReport | undefined {
  let found: IntermediateReport | undefined;
  for (const r of trial.intermediate)
    if (r.step >= step && (found === undefined || r.step < found.step)) found = r;
  return found;
}

export function lastReport(trial: TrialRecord): IntermediateReport | undefined {
  return reportAtOrBefore(trial, Infinity);
}

/** A complete trial with one final value per objective; anything else cannot be ranked. */
export function isRankable(
  trial: TrialRecord,
  objectives: number,
): trial is TrialRecord & { values: number[] } {
  return trial.state === 'complete' && trial.values !== undefined && trial.values.length === objectives;
}
