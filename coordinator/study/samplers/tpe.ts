/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), independent per param as Optuna's
 * TPESampler with its defaults. Until `nStartupTrials` trials have finished (complete or pruned) it
 * samples uniformly; then, per active param, it models the good trials' values with l(x) and the bad
 * ones' with g(x), draws `nEiCandidates` from l and keeps the one maximizing l(x)/g(x) — the
 * expected-improvement maximizer under TPE's model. Running and failed trials are ignored. A
 * conditional param learns only from the trials where it was active, and an observation the space no
 * longer allows (a study file edited between runs) is dropped. All randomness is the stream
 * `${seed}/tpe/${number}` forked per param name, so proposals are a function of seed, history and
 * number.
 */
import { Rng } from '../../../common/random.js';
import { checkTrialNumber } from '../checks.js';
import { isRankable, type TrialRecord } from '../history.js';
import type { Sampler, SamplerContext } from '../sampler.js';
import {
  canTake,
  isActive,
  levelCount,
  levelValue,
  stepOf,
  type NumericParamSpec,
  type ParamAssignment,
  type ParamSpec,
  type ParamValue,
} from '../space.js';
import {
  CategoricalParzenEstimator,
  NumericParzenEstimator,
  type Estimator,
  type NumericDomain,
} from './parzen-estimator.js';
import { goodCount, splitTrials } from './tpe-split.js';
import { clamp, drawUniform } from './uniform.js';

export interface TpeOptions {
  seed: number;
  nStartupTrials: number;
  nEiCandidates: number;
  /** Fraction of finished trials that are good, capped at 25 trials (Optuna's default gamma). */
  gamma: number;
}

export const TPE_DEFAULTS = { nStartupTrials: 10, nEiCandidates: 24, gamma: 0.1 } as const;

export class TpeSampler implements Sampler {
  readonly name = 'tpe';

  constructor(private readonly options: TpeOptions) {}

  sample(ctx: SamplerContext, number: number): ParamAssignment {
    checkTrialNumber(number);
    const rng = new Rng(`${this.options.seed}/tpe/${number}`);
    const finished = ctx.history.filter((t) => isRankable(t, ctx.directions.length) || t.state === 'pruned');
    if (finished.length === 0 || finished.length < this.options.nStartupTrials)
      return drawUniform(ctx.space, rng);
    const { good, bad } = splitTrials(
      finished,
      goodCount(finished.length, this.options.gamma),
      ctx.directions,
      ctx.intermediateDirections ?? ctx.directions,
    );
    const out: ParamAssignment = {};
    for (const p of ctx.space.params) {
      if (isActive(p, out)) out[p.name] = this.sampleParam(p, good, bad, rng.fork(p.name));
    }
    return out;
  }

  capacity(): number {
    return Infinity;
  }

  private sampleParam(p: ParamSpec, good: TrialRecord[], bad: TrialRecord[], rng: Rng): ParamValue {
    const codec = codecOf(p);
    const l = codec.estimator(observed(p, good).map(codec.encode));
    const g = codec.estimator(observed(p, bad).map(codec.encode));
    let best = NaN;
    let bestScore = -Infinity;
    for (let i = 0; i < this.options.nEiCandidates; i++) {
      const x = l.sample(rng);
      const score = l.logPdf(x) - g.logPdf(x);
      if (Number.isNaN(best) || score > bestScore) {
        best = x;
        bestScore = Number.isNaN(score) ? -Infinity : score;
      }
    }
    return codec.decode(best);
  }
}

/** The param's values in `trials` where it was active and is still allowed, in trial order. */
function observed(p: ParamSpec, trials: TrialRecord[]): ParamValue[] {
  return trials.flatMap((t) => {
    const v = t.params[p.name];
    return v !== undefined && canTake(p, v) ? [v] : [];
  });
}

/** How a param's values map into the estimator's space (log space, choice indices) and back. */
interface Codec {
  encode(v: ParamValue): number;
  decode(x: number): ParamValue;
  estimator(observations: number[]): Estimator;
}

function codecOf(p: ParamSpec): Codec {
  if (p.type === 'categorical') {
    return {
      encode: (v) => p.choices.indexOf(v),
      decode: (x) => p.choices[x] as ParamValue,
      estimator: (obs) => new CategoricalParzenEstimator(obs, p.choices.length),
    };
  }
  if (p.log === true) return logCodec(p);
  const step = stepOf(p);
  // A stepped range ends at its last step, which may fall short of `high`.
  const domain: NumericDomain =
    step === undefined
      ? { low: p.low, high: p.high }
      : { low: p.low, high: levelValue(p, step, levelCount(p, step) - 1), step };
  return {
    encode: (v) => v as number,
    // Estimator samples sit on the grid already; levelValue only rounds away float error.
    decode: (x) => (step === undefined ? x : levelValue(p, step, Math.round((x - p.low) / step))),
    estimator: (obs) => new NumericParzenEstimator(obs, domain),
  };
}

/** A log int is modelled on [log(low-0.5), log(high+0.5)] and rounded, as its uniform draw is. */
function logCodec(p: NumericParamSpec): Codec {
  const domain: NumericDomain =
    p.type === 'int'
      ? { low: Math.log(p.low - 0.5), high: Math.log(p.high + 0.5) }
      : { low: Math.log(p.low), high: Math.log(p.high) };
  return {
    encode: (v) => Math.log(v as number),
    decode: (x) => clamp(p.type === 'int' ? Math.round(Math.exp(x)) : Math.exp(x), p.low, p.high),
    estimator: (obs) => new NumericParzenEstimator(obs, domain),
  };
}
