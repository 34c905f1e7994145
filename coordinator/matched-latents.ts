/**
 * The evaluator's matching, index-based on the wire (matching[i] = true column of estimated latent
 * i), turned into the per-true-latent map that result.json and `crl train` report.
 */
import type { EvaluateLatentsResponse } from '../proto/gen/crl/v1/evaluator.js';
import type { MatchedLatent } from '../proto/gen/crl/v1/trial.js';

export function matchedLatents(
  scores: Pick<EvaluateLatentsResponse, 'matching' | 'matchedCorr'>,
  estimatedNames: readonly string[],
  truthNames: readonly string[],
): Record<string, MatchedLatent> {
  const out: Record<string, MatchedLatent> = {};
  scores.matching.forEach((t, i) => {
    const truth = truthNames[t];
    const estimate = estimatedNames[i];
    if (truth === undefined || estimate === undefined) return;
    out[truth] = { estimate, corr: scores.matchedCorr[i] ?? 0 };
  });
  return out;
}
