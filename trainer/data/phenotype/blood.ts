/**
 * The `blood_tests` tabular modality: ten laboratory values in their usual units, driven by two
 * latents, metabolic load (insulin resistance and dyslipidaemia) and systemic inflammation:
 *
 *   glucose, HbA1c, insulin, HDL, LDL   metabolic load
 *   triglycerides, ALT                  metabolic load, a little inflammation
 *   CRP, white cell count, fibrinogen   inflammation
 *
 * Skewed analytes (insulin, triglycerides, ALT, CRP) are log-normal as in real panels, so the
 * modality is a nonlinear mixing of its latents. Values are rounded to the precision a laboratory
 * reports, which also keeps the CSV compact.
 */
import type { Rng } from '../../../common/random.js';

export const BLOOD_COLUMNS = [
  'glucose',
  'hba1c',
  'insulin',
  'triglycerides',
  'hdl',
  'ldl',
  'alt',
  'crp',
  'wbc',
  'fibrinogen',
] as const;

/** Decimal places each column is reported with, in BLOOD_COLUMNS order. */
export const BLOOD_DECIMALS: readonly number[] = [0, 1, 1, 0, 0, 0, 0, 2, 1, 0];

const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));

/** Writes one participant's panel at `out[offset..offset + 10)` from standardised latents. */
export function bloodPanel(
  out: Float64Array,
  offset: number,
  metabolic: number,
  inflammation: number,
  rng: Rng,
): void {
  const m = metabolic;
  const i = inflammation;
  const values = [
    88 * Math.exp(0.08 * m + 0.05 * rng.normal()),
    5.0 + 0.45 * softplus(1.2 * m) + 0.12 * rng.normal(),
    Math.exp(2.1 + 0.4 * m + 0.25 * rng.normal()),
    Math.exp(4.75 + 0.3 * m + 0.08 * i + 0.3 * rng.normal()),
    58 * Math.exp(-0.12 * m + 0.15 * rng.normal()),
    118 + 8 * m + 25 * rng.normal(),
    Math.exp(3.0 + 0.25 * m + 0.08 * i + 0.3 * rng.normal()),
    Math.exp(0.2 + 0.8 * i + 0.35 * rng.normal()),
    6.4 + 0.8 * i + 0.9 * rng.normal(),
    310 + 45 * i + 35 * rng.normal(),
  ];
  for (let k = 0; k < values.length; k++) {
    const scale = 10 ** (BLOOD_DECIMALS[k] as number);
    // No analyte reads below its reporting precision.
    out[offset + k] = Math.max(1, Math.round((values[k] as number) * scale)) / scale;
  }
}
