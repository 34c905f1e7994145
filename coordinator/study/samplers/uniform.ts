/**
 * Independent uniform draws over a search space: the random sampler, and TPE before it has enough
 * trials to model. Each param draws from its own stream forked by name, so adding a param, or a
 * conditional param switching on, leaves the other params' values unchanged.
 */
import type { Rng } from '../../../common/random.js';
import {
  isActive,
  levelCount,
  levelValue,
  stepOf,
  type ParamAssignment,
  type ParamSpec,
  type ParamValue,
  type SearchSpace,
} from '../space.js';

/**
 * A continuous float is uniform on [low, high) (log-uniform when `log`); a stepped param picks one of
 * its grid values with equal odds; a log int is log-uniform on [low-0.5, high+0.5] rounded, so the end
 * values get their fair share.
 */
export function drawParam(p: ParamSpec, rng: Rng): ParamValue {
  if (p.type === 'categorical') return p.choices[rng.int(p.choices.length)] as ParamValue;
  if (p.log === true) {
    if (p.type === 'float')
      return clamp(Math.exp(rng.between(Math.log(p.low), Math.log(p.high))), p.low, p.high);
    const x = Math.exp(rng.between(Math.log(p.low - 0.5), Math.log(p.high + 0.5)));
    return clamp(Math.round(x), p.low, p.high);
  }
  const step = stepOf(p);
  if (step === undefined) return rng.between(p.low, p.high);
  return levelValue(p, step, rng.int(levelCount(p, step)));
}

export function drawUniform(space: SearchSpace, rng: Rng): ParamAssignment {
  const out: ParamAssignment = {};
  for (const p of space.params) if (isActive(p, out)) out[p.name] = drawParam(p, rng.fork(p.name));
  return out;
}

export function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}
