/**
 * What a study can optimise. Validation-loss terms and the learned graph's size are known at every
 * evaluation (so pruners can use them); MCC, R² and SHD need the ground truth and exist only once a
 * trial has been scored.
 */
import type { Progress, TrialResult } from '../../proto/gen/crl/v1/trial.js';

export interface MetricDef {
  /** Available at each evaluation (an intermediate value for pruning). */
  intermediate: boolean;
  needsTruth: boolean;
  /** From a progress report (intermediate metrics). */
  fromProgress?: (p: Progress) => number;
  /** From the finished trial. */
  fromResult: (r: TrialResult) => number | undefined;
}

export const METRICS = {
  val_loss: {
    intermediate: true,
    needsTruth: false,
    fromProgress: (p) => p.valTotal,
    fromResult: (r) => r.final?.valTotal,
  },
  val_ind: {
    intermediate: true,
    needsTruth: false,
    fromProgress: (p) => p.valInd,
    fromResult: (r) => r.final?.valInd,
  },
  val_recon: {
    intermediate: true,
    needsTruth: false,
    fromProgress: (p) => p.valRecon,
    fromResult: (r) => r.final?.valRecon,
  },
  edges: {
    intermediate: true,
    needsTruth: false,
    fromProgress: (p) => p.edges,
    fromResult: (r) => r.final?.edges,
  },
  mcc: { intermediate: false, needsTruth: true, fromResult: (r) => r.mcc },
  r2: { intermediate: false, needsTruth: true, fromResult: (r) => r.r2 },
  shd: { intermediate: false, needsTruth: true, fromResult: (r) => r.shd },
  shd_cdt: { intermediate: false, needsTruth: true, fromResult: (r) => r.shdCdt },
} satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;

/** The objective values of a finished trial, or the name of the first one it lacks. */
export function objectiveValues(
  metrics: readonly MetricName[],
  r: TrialResult,
): { values: number[] } | { missing: MetricName } {
  const values: number[] = [];
  for (const m of metrics) {
    const v = METRICS[m].fromResult(r);
    if (v === undefined || !Number.isFinite(v)) return { missing: m };
    values.push(v);
  }
  return { values };
}

/** Intermediate values at one evaluation (every metric here has `fromProgress`). */
export function intermediateValues(metrics: readonly MetricName[], p: Progress): number[] {
  return metrics.map((m) => {
    const def: MetricDef = METRICS[m];
    return def.fromProgress?.(p) ?? Number.NaN;
  });
}
