/**
 * TPE's Parzen estimators, as in Optuna's `samplers/_tpe/parzen_estimator.py` with its defaults
 * (prior on, prior weight 1, magic clip on, endpoints off, univariate). A numeric estimator is a
 * mixture of normals truncated to the param's range: one kernel per observation, its bandwidth the
 * larger gap to its sorted neighbours (the range ends standing in as neighbours), clipped to
 * [range / min(100, 1 + kernels), range]; plus a prior kernel at the middle with the whole range as
 * bandwidth. A stepped param uses the same kernels integrated over each step's cell. A categorical
 * estimator smooths counts: each observation puts 1 on its choice and prior/kernels on every choice.
 */
import type { Rng } from '../../../common/random.js';
import { logNormalMass, logNormalPdf, sampleTruncatedNormal } from './truncnorm.js';

const PRIOR_WEIGHT = 1;

/**
 * Optuna's `default_weights`: equal weights for up to 25 observations; beyond that the 25 newest keep
 * weight 1 and older ones ramp down from 1/n, so the model follows a study that has moved on.
 * Observations must be in trial-number order.
 */
export function defaultWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = Array.from({ length: n - 25 }, (_, i) =>
    n - 25 === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (n - 26),
  );
  return [...ramp, ...new Array<number>(25).fill(1)];
}

export interface Estimator {
  sample(rng: Rng): number;
  logPdf(x: number): number;
}

/** Observations and bounds in the estimator's own space (log space for a log param). */
export interface NumericDomain {
  low: number;
  high: number;
  /** Grid step from `low`; undefined for a continuous param. */
  step?: number;
}

export class NumericParzenEstimator implements Estimator {
  private readonly mus: number[];
  private readonly sigmas: number[];
  private readonly logWeights: number[];
  private readonly cumulative: number[];
  /** log of each kernel's mass inside the (cell-widened) range: its truncation normalizer. */
  private readonly logMasses: number[];
  private readonly half: number;

  constructor(
    observations: number[],
    private readonly domain: NumericDomain,
  ) {
    const { low, high } = domain;
    this.half = (domain.step ?? 0) / 2;
    const range = high - low + (domain.step ?? 0);
    const sigmas = bandwidths(observations, low - this.half, high + this.half);
    const nKernels = observations.length + 1;
    const minSigma = range / Math.min(100, 1 + nKernels);
    this.mus = [...observations, (low + high) / 2];
    this.sigmas = [...sigmas.map((s) => Math.min(range, Math.max(minSigma, s))), range];
    const weights = [...defaultWeights(observations.length), PRIOR_WEIGHT];
    const total = weights.reduce((a, b) => a + b, 0);
    this.logWeights = weights.map((w) => Math.log(w / total));
    let acc = 0;
    this.cumulative = weights.map((w) => (acc += w / total));
    this.logMasses = this.mus.map((mu, k) => {
      const s = this.sigmas[k] as number;
      return logNormalMass((low - this.half - mu) / s, (high + this.half - mu) / s);
    });
  }

  sample(rng: Rng): number {
    const k = pick(this.cumulative, rng.uniform());
    const { low, high, step } = this.domain;
    const x = sampleTruncatedNormal(
      this.mus[k] as number,
      this.sigmas[k] as number,
      low - this.half,
      high + this.half,
      rng,
    );
    if (step === undefined) return x;
    return Math.min(high, Math.max(low, low + Math.round((x - low) / step) * step));
  }

  logPdf(x: number): number {
    const terms = this.mus.map((mu, k) => {
      const s = this.sigmas[k] as number;
      const density =
        this.half > 0
          ? logNormalMass((x - this.half - mu) / s, (x + this.half - mu) / s)
          : logNormalPdf((x - mu) / s) - Math.log(s);
      return (this.logWeights[k] as number) + density - (this.logMasses[k] as number);
    });
    return logSumExp(terms);
  }
}

/** Optuna's univariate bandwidths with endpoints off: the larger gap to either sorted neighbour. */
function bandwidths(observations: number[], low: number, high: number): number[] {
  const order = observations
    .map((_, i) => i)
    .sort((a, b) => (observations[a] as number) - (observations[b] as number));
  const sorted = [low, ...order.map((i) => observations[i] as number), high];
  const sortedSigmas = order.map((_, k) =>
    Math.max(
      (sorted[k + 1] as number) - (sorted[k] as number),
      (sorted[k + 2] as number) - (sorted[k + 1] as number),
    ),
  );
  // Without endpoints the outermost kernels look inward only: the range edge is not a neighbour.
  if (sorted.length >= 4) {
    sortedSigmas[0] = (sorted[2] as number) - (sorted[1] as number);
    sortedSigmas[sortedSigmas.length - 1] =
      (sorted[sorted.length - 2] as number) - (sorted[sorted.length - 3] as number);
  }
  const sigmas = new Array<number>(observations.length);
  order.forEach((i, k) => (sigmas[i] = sortedSigmas[k] as number));
  return sigmas;
}

export class CategoricalParzenEstimator implements Estimator {
  private readonly logProbs: number[];
  private readonly cumulative: number[];

  /** `observations` are choice indices, in trial-number order. */
  constructor(observations: number[], nChoices: number) {
    const probs = new Array<number>(nChoices).fill(0);
    if (observations.length === 0) probs.fill(1 / nChoices);
    else {
      const nKernels = observations.length + 1;
      const weights = [...defaultWeights(observations.length), PRIOR_WEIGHT];
      const total = weights.reduce((a, b) => a + b, 0);
      // Each observation's kernel: prior/nKernels on every choice plus 1 on its own, normalized.
      const kernelTotal = 1 + PRIOR_WEIGHT * (nChoices / nKernels);
      observations.forEach((c, k) => {
        const w = (weights[k] as number) / total;
        for (let j = 0; j < nChoices; j++)
          probs[j]! += (w * (PRIOR_WEIGHT / nKernels + (j === c ? 1 : 0))) / kernelTotal;
      });
      // The prior kernel alone is uniform.
      const wPrior = PRIOR_WEIGHT / total;
      for (let j = 0; j < nChoices; j++) probs[j]! += wPrior / nChoices;
    }
    this.logProbs = probs.map((p) => Math.log(p));
    let acc = 0;
    this.cumulative = probs.map((p) => (acc += p));
  }

  sample(rng: Rng): number {
    return pick(this.cumulative, rng.uniform());
  }

  logPdf(x: number): number {
    return this.logProbs[x] ?? -Infinity;
  }
}

/** Index of the first cumulative weight above `u`; the last index absorbs rounding at the top. */
function pick(cumulative: number[], u: number): number {
  for (let k = 0; k < cumulative.length; k++) if (u < (cumulative[k] as number)) return k;
  return cumulative.length - 1;
}

function logSumExp(terms: number[]): number {
  const max = Math.max(...terms);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(terms.reduce((acc, t) => acc + Math.exp(t - max), 0));
}
