/**
 * Home sleep apnea test recordings: `nights` nights of `stepsPerNight` epochs each (15 minutes
 * over eight hours by default), concatenated into one [T, 3] float32 series with channels
 *
 *   0  SpO2 (%)          baseline about 96 %, desaturation events whose rate and depth grow with
 *                        the apnea-severity latent: the dips below 90 % are that latent's trace
 *   1  heart rate (bpm)  rises one epoch after each event (arousal) and with movement bursts
 *   2  movement (a.u.)   actigraphy: bursts whose rate grows with the fragmentation latent, plus
 *                        arousals after some apnea events and the restless first epochs
 *
 * Everything else (participant baselines, night-to-night variation, event timing, sensor noise)
 * is nuisance drawn per participant. Like the real device, SpO2 saturates at 100 % and reads no
 * lower than 70 %; movement is non-negative.
 */
import type { Rng } from '../../../common/random.js';

export const SLEEP_CHANNELS = ['spo2', 'heart_rate', 'movement'] as const;

/** Shape of one event over consecutive epochs, peak 1. */
const EVENT = [0.55, 1, 0.6, 0.25] as const;

const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));

export interface SleepFactors {
  /** Standardised latents. */
  apnea: number;
  fragmentation: number;
}

/** Writes one participant's [nights * stepsPerNight, 3] series at `out[offset..]`. */
export function simulateSleep(
  out: Float32Array,
  offset: number,
  nights: number,
  stepsPerNight: number,
  f: SleepFactors,
  rng: Rng,
): void {
  const severity = softplus(1.6 * f.apnea - 0.2);
  const eventRate = 2.2 * severity;
  const meanDepth = 3.5 + 2.2 * severity;
  const burstRate = 1.2 * Math.exp(0.6 * Math.max(-3, Math.min(3, f.fragmentation)));
  const spo2Base = 96.6 - 0.35 * severity + 0.5 * rng.normal();
  const hrBase = 61 + 5 * rng.normal();
  const moveBase = 0.04 + 0.02 * Math.abs(rng.normal());

  for (let night = 0; night < nights; night++) {
    const o = offset + night * stepsPerNight * 3;
    const spo2Night = spo2Base + 0.3 * rng.normal();
    const hrNight = hrBase + 1.5 * rng.normal();
    for (let t = 0; t < stepsPerNight; t++) {
      const i = o + 3 * t;
      out[i] = spo2Night + 0.3 * rng.normal();
      out[i + 1] = hrNight + 1.5 * rng.normal();
      out[i + 2] = moveBase * (1 + 0.5 * rng.uniform()) + (t < 2 ? 0.5 : 0);
    }
    const events = poisson(eventRate, rng);
    for (let e = 0; e < events; e++) {
      const t0 = rng.int(stepsPerNight);
      const depth = Math.max(0, meanDepth + 1.2 * rng.normal());
      const arousal = rng.uniform() < 0.3;
      for (let k = 0; k < EVENT.length && t0 + k < stepsPerNight; k++) {
        const i = o + 3 * (t0 + k);
        out[i] = (out[i] as number) - depth * EVENT[k]!;
        // Heart rate follows the desaturation by one epoch: the arousal that ends the apnea.
        if (t0 + k + 1 < stepsPerNight) out[i + 4] = (out[i + 4] as number) + 1.5 * depth * EVENT[k]!;
      }
      if (arousal) out[o + 3 * t0 + 2] = (out[o + 3 * t0 + 2] as number) + 0.4;
    }
    const bursts = poisson(burstRate, rng);
    for (let b = 0; b < bursts; b++) {
      const t0 = rng.int(stepsPerNight);
      const amplitude = 0.8 + 0.6 * rng.uniform();
      const length = rng.uniform() < 0.5 ? 1 : 2;
      for (let k = 0; k < length && t0 + k < stepsPerNight; k++) {
        const i = o + 3 * (t0 + k);
        out[i + 2] = (out[i + 2] as number) + amplitude;
        out[i + 1] = (out[i + 1] as number) + 4 * amplitude;
      }
    }
    for (let t = 0; t < stepsPerNight; t++) {
      const i = o + 3 * t;
      const s = out[i] as number;
      out[i] = s > 100 ? 100 : s < 70 ? 70 : s;
    }
  }
}

/** Knuth's method: exact, and quick for the small rates used here (a few per night). */
function poisson(lambda: number, rng: Rng): number {
  if (lambda <= 0) return 0;
  const limit = Math.exp(-Math.min(lambda, 60));
  let k = 0;
  let p = rng.uniform();
  while (p > limit) {
    k++;
    p *= rng.uniform();
  }
  return k;
}
