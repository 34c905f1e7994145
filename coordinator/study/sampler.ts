/**
 * The sampler seam: what params the next trial gets. A sampler holds no history; it re-reads the
 * study's trials on every call (as Optuna's do), so a restart that replays storage continues the
 * same sequence. Implementations live in `samplers/`, one per file.
 */
import { checkInteger, checkNumber, checkSeed } from './checks.js';
import { invalidArgument } from '../../common/errors.js';
import type { TrialRecord } from './history.js';
import { GridSampler } from './samplers/grid.js';
import { RandomSampler } from './samplers/random.js';
import { TPE_DEFAULTS, TpeSampler } from './samplers/tpe.js';
import type { Direction, ParamAssignment, SearchSpace } from './space.js';

export interface SamplerContext {
  /** Validated by `validateSpace`; samplers do not check it again. */
  space: SearchSpace;
  /** Of the final objectives, in the order of `TrialRecord.values`. */
  directions: Direction[];
  history: readonly TrialRecord[];
  /**
   * Of the intermediate objectives, in the order of `TrialRecord.intermediate[].values`; TPE ranks
   * pruned trials by their last intermediate value in this direction. Defaults to `directions`.
   */
  intermediateDirections?: Direction[];
}

export interface Sampler {
  readonly name: string;
  /**
   * Params of trial `number`. A pure function of (sampler config incl. seed, context.history,
   * number): a restarted study that replays the same history gets the same proposals — that is how
   * the sampler "continues its sequence" after a crash, so there is no hidden mutable state.
   */
  sample(ctx: SamplerContext, number: number): ParamAssignment;
  /** How many trials this sampler can propose at most (grid: grid size; others: Infinity). */
  capacity(space: SearchSpace): number;
}

export type SamplerConfig =
  | { type: 'random'; seed: number }
  | { type: 'grid'; seed: number; shuffle?: boolean }
  | { type: 'tpe'; seed: number; nStartupTrials?: number; nEiCandidates?: number; gamma?: number };

/** Throws INVALID_ARGUMENT naming `${field}.<setting>` for a setting out of range. */
export function createSampler(cfg: SamplerConfig, field = 'sampler'): Sampler {
  const seed = checkSeed(cfg.seed, `${field}.seed`);
  switch (cfg.type) {
    case 'random':
      return new RandomSampler(seed);
    case 'grid':
      if (cfg.shuffle !== undefined && typeof cfg.shuffle !== 'boolean') {
        throw invalidArgument('must be true or false', { field: `${field}.shuffle` });
      }
      return new GridSampler(seed, cfg.shuffle ?? false);
    case 'tpe':
      return new TpeSampler({
        seed,
        nStartupTrials: checkInteger(
          cfg.nStartupTrials ?? TPE_DEFAULTS.nStartupTrials,
          0,
          `${field}.nStartupTrials`,
        ),
        nEiCandidates: checkInteger(
          cfg.nEiCandidates ?? TPE_DEFAULTS.nEiCandidates,
          1,
          `${field}.nEiCandidates`,
        ),
        gamma: checkNumber(cfg.gamma ?? TPE_DEFAULTS.gamma, 0, 1, `${field}.gamma`),
      });
    default: {
      const type: unknown = (cfg as { type: unknown }).type;
      throw invalidArgument(`unknown sampler ${JSON.stringify(type)}; expected random, grid or tpe`, {
        field: `${field}.type`,
      });
    }
  }
}
