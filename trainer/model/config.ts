/**
 * Model and loss configuration, with the paper's defaults (§5, appendix D): loss weights
 * alpha_Ind = 0.1, alpha_Sp = 0.01, alpha_Recon = 1 for the numerical cases. Everything here is
 * plain data, written into result.json and the checkpoint manifest.
 */
import { invalidArgument } from '../../common/errors.js';
import { latentLayoutOf, type LatentLayout } from '../../common/graph.js';

/** Modality kinds the model has encoders for (the dataset manifest's `kind`). */
export type ModalityKind = 'tabular' | 'timeseries' | 'image';

export interface ModalitySpec {
  name: string;
  kind: ModalityKind;
  /** Observed dimensions d_m: the product of `shape`; rows reach the model flattened to d_m. */
  dims: number;
  /**
   * Shape of one row before flattening: [d] tabular, [T, C] time series (time-major, channels
   * last), [H, W, C] image (channels last). Absent: [dims] (tabular).
   */
  shape?: number[];
  /** Causally related latents k_m. */
  latents: number;
  /** Exogenous (modality-specific) latents e_m, the paper's eta. */
  exogenous: number;
}

export interface GateConfig {
  /**
   * `concrete`: a binary-concrete (Gumbel-sigmoid) sample per step, sigmoid((A + logistic noise)/T),
   * so the gate is near 0 or 1 and the conditioner's weights cannot undo a small gate; the penalty
   * is on the edge probabilities sigmoid(A). `sigmoid`: the deterministic gate sigmoid(A/T).
   * Evaluation always uses the deterministic gate.
   */
  kind: 'concrete' | 'sigmoid';
  temperature: number;
  /** Initial logit of every allowed edge (positive: start dense and let sparsity prune). */
  initLogit: number;
  /** Readout: edge j -> i when sigmoid(A[i][j]) exceeds this. */
  threshold: number;
  /** Allow edges inside a modality (lower to higher latent index); default inter-modal only. */
  intraModal: boolean;
}

export interface LossWeights {
  ind: number;
  sp: number;
  recon: number;
  /** Multiplier of the sparsity penalty on intra-modal edges (relative to inter-modal ones). */
  intraSp: number;
}

export interface ModelConfig {
  modalities: ModalitySpec[];
  /** Hidden width of encoder and decoder MLPs. */
  hidden: number;
  /** Hidden layers in encoders and decoders. */
  layers: number;
  /** Hidden units per component of the conditional flow's conditioner. */
  flowHidden: number;
  /** Encoder outputs mean and log-variance and samples (VAE); required for a bounded L_Ind. */
  stochastic: boolean;
  /**
   * How L_Ind is estimated with the stochastic encoder: `sample` = per-sample KL (the ELBO term,
   * which also charges I(x; gamma)); `aggregate` = KL of the aggregate posterior to the prior,
   * estimated on the minibatch (the paper's KL(p(gamma) || N(0, I)) taken literally).
   */
  indEstimator: 'sample' | 'aggregate';
  /**
   * Convolutional encoders (image, time series): output channels of each stride-2 layer; the
   * decoders mirror them with transposed convolutions. Kernel size per kind: `convKernel`.
   */
  convChannels: number[];
  /** Kernel size (square for images, length for time series). */
  convKernel: number;
  /**
   * Rotate each modality's code before the prior (see rotation.ts): the z/eta split and the
   * alignment of z are then learnt by L_Ind without fighting the reconstruction.
   */
  rotation: boolean;
  /** LeakyReLU slope in all MLPs. */
  negativeSlope: number;
  gate: GateConfig;
  alpha: LossWeights;
}

export const PAPER_ALPHA: Readonly<LossWeights> = { ind: 0.1, sp: 0.01, recon: 1, intraSp: 1 };

export const DEFAULT_MODEL: Readonly<Omit<ModelConfig, 'modalities'>> = {
  hidden: 64,
  layers: 2,
  flowHidden: 16,
  stochastic: true,
  indEstimator: 'aggregate',
  convChannels: [16, 32],
  convKernel: 3,
  rotation: true,
  negativeSlope: 0.2,
  gate: { kind: 'concrete', temperature: 0.5, initLogit: 2, threshold: 0.5, intraModal: false },
  alpha: { ...PAPER_ALPHA },
};

/** Fills defaults and checks every value. */
export function modelConfig(
  modalities: ModalitySpec[],
  overrides: Partial<Omit<ModelConfig, 'modalities' | 'gate' | 'alpha'>> & {
    gate?: Partial<GateConfig>;
    alpha?: Partial<LossWeights>;
  } = {},
): ModelConfig {
  const cfg: ModelConfig = {
    ...DEFAULT_MODEL,
    ...overrides,
    modalities: modalities.map((m) => ({ ...m })),
    gate: { ...DEFAULT_MODEL.gate, ...overrides.gate },
    alpha: { ...DEFAULT_MODEL.alpha, ...overrides.alpha },
  };
  if (cfg.modalities.length < 1) throw invalidArgument('the model needs at least one modality');
  cfg.modalities.forEach((m, i) => {
    for (const key of ['dims', 'latents'] as const) {
      if (!Number.isInteger(m[key]) || m[key] < 1) {
        throw invalidArgument(`must be a positive integer, got ${m[key]}`, {
          field: `modalities[${i}].${key}`,
        });
      }
    }
    if (!Number.isInteger(m.exogenous) || m.exogenous < 0) {
      throw invalidArgument(`must be a non-negative integer, got ${m.exogenous}`, {
        field: `modalities[${i}].exogenous`,
      });
    }
  });
  cfg.modalities.forEach((m, i) => {
    const shape = rowShape(m);
    const want = m.kind === 'tabular' ? 1 : m.kind === 'timeseries' ? 2 : 3;
    const product = shape.reduce((a, b) => a * b, 1);
    if (shape.length !== want || shape.some((v) => !Number.isInteger(v) || v < 1) || product !== m.dims) {
      throw invalidArgument(
        `shape [${shape.join(', ')}] does not fit a ${m.kind} modality of ${m.dims} dims`,
        { field: `modalities[${i}].shape` },
      );
    }
  });
  if (cfg.convChannels.length < 1 || cfg.convChannels.some((c) => !Number.isInteger(c) || c < 1)) {
    throw invalidArgument(`must be positive integers, got [${cfg.convChannels.join(', ')}]`, {
      field: 'convChannels',
    });
  }
  for (const key of ['hidden', 'layers', 'flowHidden', 'convKernel'] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) {
      throw invalidArgument(`must be a positive integer, got ${cfg[key]}`, { field: key });
    }
  }
  for (const key of ['ind', 'sp', 'recon', 'intraSp'] as const) {
    if (!(cfg.alpha[key] >= 0) || !Number.isFinite(cfg.alpha[key])) {
      throw invalidArgument(`must be a finite number >= 0, got ${cfg.alpha[key]}`, { field: `alpha.${key}` });
    }
  }
  if (!(cfg.gate.temperature > 0)) {
    throw invalidArgument(`must be > 0, got ${cfg.gate.temperature}`, { field: 'gate.temperature' });
  }
  if (!(cfg.gate.threshold > 0 && cfg.gate.threshold < 1)) {
    throw invalidArgument(`must be in (0, 1), got ${cfg.gate.threshold}`, { field: 'gate.threshold' });
  }
  return cfg;
}

export type { LatentLayout };

export function latentLayout(cfg: Pick<ModelConfig, 'modalities'>): LatentLayout {
  return latentLayoutOf(cfg.modalities.map((m) => m.latents));
}

/** Shape of one row of modality m before flattening (see `ModalitySpec.shape`). */
export function rowShape(m: Pick<ModalitySpec, 'dims' | 'shape'>): number[] {
  return m.shape ?? [m.dims];
}
