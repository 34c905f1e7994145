/**
 * What a synthetic multimodal dataset is made of (paper §6.1, appendix D.1), and the presets that
 * reproduce the paper's numerical cases. A spec is plain data so it can be written into the
 * dataset manifest and reproduced exactly from it.
 */
import { invalidArgument } from '../../../common/errors.js';

export type Coverage = 'latent' | 'modality';

export interface SyntheticSpec {
  /** Per modality: causally related latents k_m. */
  latents: number[];
  /** Per modality: exogenous (modality-specific) variables e_m, the paper's eta. */
  exogenous: number[];
  /** Per modality: observed dimensions d_m. */
  dims: number[];
  /** Number of samples (participants). */
  n: number;
  /**
   * Number of inter-modal edges. Inter-modal edges go from a lower to a higher modality index, so
   * the possible ones are the pairs (z_a, z_b) with a in an earlier modality than b.
   */
  interEdges: number;
  /**
   * What every inter-modal edge set must touch. 'latent' (appendix D.1: "the latent variables in
   * each group keep at least one causal connection with another group"): every latent has an
   * inter-modal edge; a latent without one is an independent source inside its modality, exchangeable
   * with the exogenous eta there, so no method can identify it. 'modality': every modality has an
   * inter-modal edge (the weaker guarantee, the only one possible with very few edges).
   */
  coverage: Coverage;
  /**
   * Redraw the inter-modal edges until the truth meets the paper's structural conditions (no two
   * latents of a modality with the same inter-modal parents and children; see identifiability.ts).
   * Off by default, so the presets' draws stay what they were; the manifest records it.
   */
  requireConditions?: boolean;
  /** Probability of each possible intra-modal edge (lower to higher latent index within a modality). */
  intraProb: number;
  /** Strength range of a mechanism: f_i(Pa) is scaled to a standard deviation drawn from this range. */
  strength: [number, number];
  /** Standard deviation of the Gaussian causal noise eps_i. */
  noiseStd: number;
  /** Hidden width of the random smooth mechanism f_i. */
  mechanismHidden: number;
  /** Negative slope of the mixing MLP's LeakyReLU. */
  negativeSlope: number;
  /** Singular values of every mixing weight matrix are drawn from this range; its ratio bounds the condition number. */
  singularValues: [number, number];
  seed: number;
}

/** Shape of a preset; everything else takes the defaults below. */
interface PresetShape {
  modalities: number;
  latents: number;
  exogenous: number;
  dims: number;
  /** Fraction of possible inter-modal edges that are absent (paper: 50-75%). */
  sparsity?: number;
  /** Exact inter-modal edge count (the ablation fixes the number of connected pairs). */
  interEdges?: number;
  description: string;
}

export const PRESETS: Readonly<Record<string, PresetShape>> = {
  c1: { modalities: 2, latents: 2, exogenous: 1, dims: 15, sparsity: 0.5, description: 'paper case 1' },
  c2: { modalities: 2, latents: 3, exogenous: 1, dims: 20, sparsity: 0.5, description: 'paper case 2' },
  c3: { modalities: 4, latents: 2, exogenous: 1, dims: 15, sparsity: 0.75, description: 'paper case 3' },
  'c3-30': { modalities: 4, latents: 2, exogenous: 1, dims: 30, sparsity: 0.75, description: 'case 3, d=30' },
  'ablation-0': { ...caseOne(), interEdges: 4, description: 'sparsity ablation: 4 of 4 pairs connected' },
  'ablation-25': { ...caseOne(), interEdges: 3, description: 'sparsity ablation: 3 of 4 pairs connected' },
  'ablation-50': { ...caseOne(), interEdges: 2, description: 'sparsity ablation: 2 of 4 pairs connected' },
  'ablation-75': { ...caseOne(), interEdges: 1, description: 'sparsity ablation: 1 of 4 pairs connected' },
  m5: { modalities: 5, latents: 2, exogenous: 1, dims: 30, sparsity: 0.75, description: '5 modalities' },
  m6: { modalities: 6, latents: 2, exogenous: 1, dims: 30, sparsity: 0.75, description: '6 modalities' },
  m8: { modalities: 8, latents: 2, exogenous: 1, dims: 30, sparsity: 0.75, description: '8 modalities' },
};

function caseOne(): Omit<PresetShape, 'description'> {
  return { modalities: 2, latents: 2, exogenous: 1, dims: 15 };
}

export const DEFAULTS = {
  n: 10_000,
  sparsity: 0.5,
  intraProb: 0,
  strength: [0.8, 1.6] as [number, number],
  noiseStd: 1,
  mechanismHidden: 8,
  negativeSlope: 0.2,
  singularValues: [1, 2] as [number, number],
  seed: 0,
};

/** Overrides a user may give on top of a preset (or instead of one). Each maps to a CLI flag. */
export interface SpecOverrides {
  modalities?: number;
  latents?: readonly number[];
  exogenous?: readonly number[];
  dims?: readonly number[];
  n?: number;
  sparsity?: number;
  interEdges?: number;
  /** 'auto' (default): 'latent' when the edge count allows it, else 'modality'. */
  coverage?: Coverage | 'auto';
  requireConditions?: boolean;
  intraProb?: number;
  noiseStd?: number;
  seed?: number;
}

/**
 * Fewest inter-modal edges that touch every latent: each edge touches two latents of different
 * modalities, so ceil(N/2), unless one modality holds more latents than all others together,
 * whose latents then each need an edge of their own.
 */
export function minimumLatentCover(latents: readonly number[]): number {
  const total = latents.reduce((a, b) => a + b, 0);
  const largest = Math.max(...latents);
  return Math.max(Math.ceil(total / 2), largest);
}

/** Number of possible inter-modal edges: one per pair of latents in different modalities. */
export function possibleInterEdges(latents: readonly number[]): number {
  let total = 0;
  for (let a = 0; a < latents.length; a++) {
    for (let b = a + 1; b < latents.length; b++) total += (latents[a] as number) * (latents[b] as number);
  }
  return total;
}

/**
 * Resolves a preset plus overrides into a complete spec, checking every value and naming the CLI
 * flag at fault. A per-modality list of length 1 is broadcast to all modalities.
 */
export function resolveSpec(preset: string | undefined, o: SpecOverrides): SyntheticSpec {
  let shape: PresetShape | undefined;
  if (preset !== undefined) {
    shape = PRESETS[preset];
    if (shape === undefined) {
      throw invalidArgument(`unknown preset "${preset}"; known presets: ${Object.keys(PRESETS).join(', ')}`, {
        field: '--preset',
      });
    }
  }
  const modalities = o.modalities ?? shape?.modalities ?? o.latents?.length ?? o.dims?.length;
  if (modalities === undefined) {
    throw invalidArgument('give --preset, or --modalities with --latents, --exogenous and --dims', {
      field: '--preset',
    });
  }
  checkInt(modalities, 1, '--modalities');
  if (modalities < 2)
    throw invalidArgument('at least 2 modalities are needed for inter-modal edges', {
      field: '--modalities',
    });

  const perModality = (
    given: readonly number[] | undefined,
    fallback: number | undefined,
    flag: string,
    min: number,
  ) => {
    let values = given === undefined ? undefined : [...given];
    if (values === undefined) {
      if (fallback === undefined)
        throw invalidArgument(`missing ${flag} (no preset gives it)`, { field: flag });
      values = [fallback];
    }
    if (values.length === 1) values = new Array<number>(modalities).fill(values[0] as number);
    if (values.length !== modalities) {
      throw invalidArgument(`expected 1 or ${modalities} values (one per modality), got ${values.length}`, {
        field: flag,
      });
    }
    values.forEach((v) => checkInt(v, min, flag));
    return values;
  };
  const latents = perModality(o.latents, shape?.latents, '--latents', 1);
  const exogenous = perModality(o.exogenous, shape?.exogenous, '--exogenous', 0);
  const dims = perModality(o.dims, shape?.dims, '--dims', 1);
  dims.forEach((d, m) => {
    const inputs = (latents[m] as number) + (exogenous[m] as number);
    if (d < inputs) {
      throw invalidArgument(
        `modality ${m + 1} has ${d} observed dims but ${inputs} latent + exogenous inputs; the mixing must be injective, so dims >= latents + exogenous`,
        { field: '--dims' },
      );
    }
  });

  const n = o.n ?? DEFAULTS.n;
  checkInt(n, 2, '--n');

  const possible = possibleInterEdges(latents);
  let interEdges: number;
  if (o.interEdges !== undefined) {
    interEdges = o.interEdges;
    checkInt(interEdges, 0, '--inter-edges');
  } else if (o.sparsity !== undefined || shape?.interEdges === undefined) {
    const sparsity = o.sparsity ?? shape?.sparsity ?? DEFAULTS.sparsity;
    if (!(sparsity >= 0 && sparsity <= 1))
      throw invalidArgument(`must be in [0, 1], got ${sparsity}`, { field: '--sparsity' });
    // Floor keeps the realised sparsity at or above the requested one (c2: 9 possible, 4 present).
    interEdges = Math.floor((1 - sparsity) * possible + 1e-9);
  } else {
    interEdges = shape.interEdges;
  }
  if (interEdges > possible) {
    throw invalidArgument(`${interEdges} inter-modal edges requested, only ${possible} are possible`, {
      field: o.interEdges !== undefined ? '--inter-edges' : '--sparsity',
    });
  }
  const edgeFlag = o.interEdges !== undefined ? '--inter-edges' : '--sparsity';
  const minimum = Math.ceil(modalities / 2);
  if (interEdges < minimum) {
    throw invalidArgument(
      `${interEdges} inter-modal edges cannot give each of ${modalities} modalities an inter-modal edge (at least ${minimum} needed)`,
      { field: edgeFlag },
    );
  }
  const latentCover = minimumLatentCover(latents);
  const requested = o.coverage ?? 'auto';
  const coverage: Coverage =
    requested === 'auto' ? (interEdges >= latentCover ? 'latent' : 'modality') : requested;
  if (coverage === 'latent' && interEdges < latentCover) {
    throw invalidArgument(
      `${interEdges} inter-modal edges cannot give each of ${latents.reduce((a, b) => a + b, 0)} latents an inter-modal edge (at least ${latentCover} needed; or use --coverage modality)`,
      { field: '--coverage' },
    );
  }

  if (o.requireConditions === true && coverage !== 'latent') {
    throw invalidArgument(
      `an edge count of ${interEdges} leaves some latent without an inter-modal edge, so the paper's conditions cannot hold`,
      { field: '--require-conditions' },
    );
  }

  const intraProb = o.intraProb ?? DEFAULTS.intraProb;
  if (!(intraProb >= 0 && intraProb <= 1))
    throw invalidArgument(`must be in [0, 1], got ${intraProb}`, { field: '--intra-prob' });
  const noiseStd = o.noiseStd ?? DEFAULTS.noiseStd;
  if (!(noiseStd > 0 && Number.isFinite(noiseStd)))
    throw invalidArgument(`must be positive, got ${noiseStd}`, { field: '--noise-std' });
  const seed = o.seed ?? DEFAULTS.seed;
  checkInt(seed, 0, '--seed');

  return {
    latents,
    exogenous,
    dims,
    n,
    interEdges,
    coverage,
    ...(o.requireConditions === true ? { requireConditions: true } : {}),
    intraProb,
    strength: [...DEFAULTS.strength],
    noiseStd,
    mechanismHidden: DEFAULTS.mechanismHidden,
    negativeSlope: DEFAULTS.negativeSlope,
    singularValues: [...DEFAULTS.singularValues],
    seed,
  };
}

function checkInt(v: number, min: number, flag: string): void {
  if (!Number.isInteger(v)) throw invalidArgument(`must be an integer, got ${v}`, { field: flag });
  if (v < min) throw invalidArgument(`must be at least ${min}, got ${v}`, { field: flag });
}
