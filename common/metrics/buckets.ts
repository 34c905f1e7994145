/** Histogram bucket bounds for durations that span several orders of magnitude. */
import { invalidArgument } from '../errors.js';

const STEPS = [1, 2, 5] as const;

/**
 * The 1-2-5 series from `start` to `end` inclusive (0.001, 0.002, 0.005, 0.01, ...): roughly
 * exponential (x2 to x2.5 per bucket), and bounds a person can read off a dashboard.
 * Both ends must be of the form {1, 2, 5} x 10^k.
 */
export function decadeBuckets(start: number, end: number): number[] {
  const at = (x: number): number => {
    const exp = Math.floor(Math.log10(x) + 1e-9);
    const step = STEPS.findIndex((s) => Math.abs(s * 10 ** exp - x) <= 1e-9 * x);
    if (step < 0) throw invalidArgument(`${x} is not 1, 2 or 5 times a power of ten`, { field: 'buckets' });
    return exp * STEPS.length + step;
  };
  const first = at(start);
  const last = at(end);
  if (last <= first) throw invalidArgument(`need start < end, got ${start} and ${end}`, { field: 'buckets' });
  return Array.from({ length: last - first + 1 }, (_, k) => {
    const i = first + k;
    const exp = Math.floor(i / STEPS.length);
    // toPrecision strips the binary noise of 5 * 10 ** -5 and friends.
    return Number(((STEPS[i - exp * STEPS.length] as number) * 10 ** exp).toPrecision(1));
  });
}
