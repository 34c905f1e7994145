/**
 * Options of the `phenotype` cohort generator: a synthetic stand-in for the Human Phenotype
 * Project analysis of the paper (§6.3, appendix D.3) with a known causal graph. Participants are
 * `P000001`, `P000002`, ... and every file is keyed by that ID, because the real cohort is: images,
 * sleep recordings and blood tests come from different visits and some participants lack some.
 *
 * Defaults follow the paper where it says something (three nights of home sleep testing) and are
 * otherwise kept small enough that 100,000 participants generate in about a minute on one core.
 */
import { invalidArgument } from '../../../common/errors.js';

export interface PhenotypeOptions {
  /** Participants. */
  n: number;
  seed: number;
  /** Side of the square fundus images in pixels. */
  imageSize?: number;
  /** Nights of sleep monitoring per participant. */
  nights?: number;
  imageFormat?: 'npy' | 'png';
  tabularFormat?: 'csv' | 'parquet';
  /**
   * Fraction of participants without a sleep recording and, drawn separately, the fraction without
   * a left-eye image. Every participant keeps the right eye and the blood tests, so nobody lacks
   * everything.
   */
  missing?: number;
  overwrite?: boolean;
}

export interface PhenotypeSpec {
  n: number;
  seed: number;
  imageSize: number;
  nights: number;
  /** Samples per night: 15-minute epochs over eight hours. */
  stepsPerNight: number;
  imageFormat: 'npy' | 'png';
  tabularFormat: 'csv' | 'parquet';
  missing: number;
}

export const ID_COLUMN = 'participant_id';
export const STEPS_PER_NIGHT = 32;
/** Largest n that fits the six-digit participant IDs. */
export const MAX_PARTICIPANTS = 999_999;

export function participantId(row: number): string {
  return `P${String(row + 1).padStart(6, '0')}`;
}

export function resolvePhenotypeSpec(o: PhenotypeOptions): PhenotypeSpec {
  const spec: PhenotypeSpec = {
    n: o.n,
    seed: o.seed,
    imageSize: o.imageSize ?? 32,
    nights: o.nights ?? 3,
    stepsPerNight: STEPS_PER_NIGHT,
    imageFormat: o.imageFormat ?? 'npy',
    tabularFormat: o.tabularFormat ?? 'csv',
    missing: o.missing ?? 0.05,
  };
  if (!Number.isInteger(spec.n) || spec.n < 1 || spec.n > MAX_PARTICIPANTS) {
    throw invalidArgument(`n must be an integer in 1..${MAX_PARTICIPANTS}, got ${spec.n}`, { field: 'n' });
  }
  if (!Number.isInteger(spec.seed)) {
    throw invalidArgument(`seed must be an integer, got ${spec.seed}`, { field: 'seed' });
  }
  // Below 16 pixels the optic disc and the vessels no longer resolve; above 512 one image row of a
  // 100,000-participant array stops being cheap.
  if (!Number.isInteger(spec.imageSize) || spec.imageSize < 16 || spec.imageSize > 512) {
    throw invalidArgument(`imageSize must be an integer in 16..512, got ${spec.imageSize}`, {
      field: 'imageSize',
    });
  }
  if (!Number.isInteger(spec.nights) || spec.nights < 1 || spec.nights > 14) {
    throw invalidArgument(`nights must be an integer in 1..14, got ${spec.nights}`, { field: 'nights' });
  }
  if (spec.imageFormat !== 'npy' && spec.imageFormat !== 'png') {
    throw invalidArgument(`imageFormat must be npy or png, got ${String(spec.imageFormat)}`, {
      field: 'imageFormat',
    });
  }
  if (spec.tabularFormat !== 'csv' && spec.tabularFormat !== 'parquet') {
    throw invalidArgument(`tabularFormat must be csv or parquet, got ${String(spec.tabularFormat)}`, {
      field: 'tabularFormat',
    });
  }
  // At one half or more, missing sleep and missing left eyes would dominate the modalities they
  // thin out; the generator is for cohorts where a modality is mostly present.
  if (!(spec.missing >= 0 && spec.missing < 0.5)) {
    throw invalidArgument(`missing must be in [0, 0.5), got ${spec.missing}`, { field: 'missing' });
  }
  return spec;
}
