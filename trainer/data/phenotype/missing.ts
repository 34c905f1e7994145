/**
 * Which participants lack a modality. An exact count (round(fraction * n)) rather than a coin per
 * participant, so a test can check the fraction and two cohorts of the same n miss the same number.
 * Sleep and the left eye are drawn from separate streams: a participant may lack both, never the
 * right eye or the blood tests, so nobody lacks everything.
 */
import type { Rng } from '../../../common/random.js';

/** A mask with exactly round(fraction * n) ones at seeded positions. */
export function missingMask(n: number, fraction: number, rng: Rng): Uint8Array {
  const k = Math.round(fraction * n);
  const mask = new Uint8Array(n);
  // Partial Fisher-Yates: the first k slots of a shuffled 0..n-1, without shuffling the rest.
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const pick = order[j] as number;
    order[j] = order[i] as number;
    order[i] = pick;
    mask[pick] = 1;
  }
  return mask;
}
