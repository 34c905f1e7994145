/**
 * Normal tail masses in log space, and the truncated normal, for TPE's Parzen estimators. Logs keep
 * densities far in the tails finite: a candidate many bandwidths from every kernel of g(x) must still
 * get a (large) finite l(x)/g(x), not 0/0.
 */
import type { Rng } from '../../../common/random.js';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log erfc(x); Numerical Recipes' erfcc (relative error < 1.2e-7), kept in log form for large x. */
function logErfc(x: number): number {
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + poly;
}

/** log P(Z > z) for a standard normal Z. */
export function logNormalTail(z: number): number {
  return Math.log(0.5) + logErfc(z / Math.SQRT2);
}

export function logNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log P(a < Z < b), computed on the side of the smaller tails so nothing cancels. */
export function logNormalMass(a: number, b: number): number {
  if (!(a < b)) return -Infinity;
  // A narrow interval is its width times the density; tail differences would lose the digits.
  if (b - a < 1e-3) return Math.log(b - a) + logNormalPdf((a + b) / 2);
  if (a >= 0) return logDiff(logNormalTail(a), logNormalTail(b));
  if (b <= 0) return logDiff(logNormalTail(-b), logNormalTail(-a));
  return Math.log1p(-(Math.exp(logNormalTail(-a)) + Math.exp(logNormalTail(b))));
}

/** log(e^x − e^y) for x ≥ y. */
function logDiff(x: number, y: number): number {
  if (x === -Infinity) return -Infinity;
  return x + Math.log1p(-Math.exp(y - x));
}

/**
 * A draw from N(mu, sigma²) conditioned on [low, high] by rejection. With mu inside [low, high] at
 * least a third of the draws land (the worst case is mu on an edge with sigma the whole range), so
 * the cap is never reached in practice; it only keeps a broken input from spinning.
 */
export function sampleTruncatedNormal(
  mu: number,
  sigma: number,
  low: number,
  high: number,
  rng: Rng,
): number {
  for (let i = 0; i < 1000; i++) {
    const x = mu + sigma * rng.normal();
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, mu));
}
