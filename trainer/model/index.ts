/**
 * The causal multimodal model (paper §5): per-modality encoders and decoders, the component-wise
 * conditional flow over z with a learnable, gated DAG adjacency, and the three losses.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Graph } from '../../common/graph.js';
import { Rng } from '../../common/random.js';
import { Adjacency, sparsityWeights } from './adjacency.js';
import { latentLayout, type LatentLayout, type ModelConfig } from './config.js';
import { createDecoder, type Decoder } from './decoders/index.js';
import { createEncoder, type Encoder } from './encoders/index.js';
import { ComponentFlow } from './flow.js';
import {
  aggregateIndependenceLoss,
  independenceLoss,
  reconstructionLoss,
  sparsityLoss,
  type LossTerms,
} from './loss.js';
import { ParamStore } from './params.js';
import { CodeRotation } from './rotation.js';

export * from './config.js';
export { Adjacency, dagMask, sparsityWeights } from './adjacency.js';
export { ComponentFlow, LOG_SCALE_BOUND } from './flow.js';
export {
  aggregateIndependenceLoss,
  independenceLoss,
  reconstructionLoss,
  sparsityLoss,
  type LossTerms,
} from './loss.js';
export { ParamStore, type NamedParam } from './params.js';
export { CodeRotation } from './rotation.js';

export interface ForwardOptions {
  /** Training draws the concrete gate; evaluation uses the hard readout gate. */
  training: boolean;
  /** Seed of this step's random draws (posterior sample, gate noise). */
  seed: number;
  /** Multiplier of alpha_Sp (a warm-up ramp; default 1). */
  spScale?: number;
  /**
   * Per modality, 1/0 row weights where participants lack modalities (undefined: all present).
   * Reconstruction counts a modality's present rows; L_Ind the rows complete in every modality.
   */
  masks?: readonly (tf.Tensor1D | undefined)[];
}

/** Where a block of rows sits in its batch, so posterior noise is drawn for the batch, then sliced. */
export interface RowWindow {
  batchRows: number;
  rowOffset: number;
}

/** One modality's encoder output for a block of rows. */
export interface CodeBlock {
  /** (rows, k_m + e_m) the code the losses see: a posterior sample, or the mean when deterministic. */
  sample: tf.Tensor2D;
  mean: tf.Tensor2D;
  logvar: tf.Tensor2D | undefined;
}

export interface ModelPartOptions {
  /**
   * Indices of the modalities whose encoders and decoders this process builds (default all). A
   * trainer of a group builds its own; the flow and adjacency are always built.
   */
  owned?: readonly number[];
}

/** Seed of modality m's posterior noise in a step: distinct per modality, equal on every trainer. */
export function noiseSeed(stepSeed: number, m: number): number {
  return (stepSeed ^ Math.imul(m + 1, 0x85ebca6b)) >>> 0;
}

export class CrlModel {
  readonly params: ParamStore;
  readonly layout: LatentLayout;
  readonly adjacency: Adjacency;
  /** Modality indices built here, ascending. */
  readonly owned: readonly number[];
  private readonly encoders = new Map<number, Encoder>();
  private readonly decoders = new Map<number, Decoder>();
  private readonly flow: ComponentFlow;
  /** Per modality, the rotation of its code seen by the prior (undefined when off). */
  private readonly rotations: (CodeRotation | undefined)[];
  private readonly spWeights: tf.Tensor2D;
  /** Column indices of z in the concatenated code [z(1) eta(1) z(2) eta(2) ...]. */
  private readonly zIndex: tf.Tensor1D;
  private readonly codeSizes: number[];

  constructor(
    readonly config: ModelConfig,
    seed: number,
    part: ModelPartOptions = {},
  ) {
    this.params = new ParamStore(new Rng(seed).fork('init'));
    this.layout = latentLayout(config);
    const all = config.modalities.map((_, m) => m);
    this.owned = [...new Set(part.owned ?? all)].sort((a, b) => a - b);
    for (const m of this.owned) {
      const spec = config.modalities[m];
      if (spec === undefined) throw new Error(`no modality ${m} in the model`);
      this.encoders.set(m, createEncoder(spec, config, this.params, `enc/${spec.name}`));
      this.decoders.set(m, createDecoder(spec, config, this.params, `dec/${spec.name}`));
    }
    this.flow = new ComponentFlow(this.layout.d, config.flowHidden, this.params, config.negativeSlope);
    this.adjacency = new Adjacency(this.layout, config.gate, this.params);
    this.rotations = config.modalities.map((spec) =>
      config.rotation
        ? new CodeRotation(spec.latents + spec.exogenous, this.params, `rotation/${spec.name}`)
        : undefined,
    );
    this.spWeights = tf.keep(
      tf.tensor2d(sparsityWeights(this.layout, this.adjacency.maskValues, config.alpha.intraSp), [
        this.layout.d,
        this.layout.d,
      ]),
    );
    const zIdx: number[] = [];
    let offset = 0;
    for (const m of config.modalities) {
      for (let i = 0; i < m.latents; i++) zIdx.push(offset + i);
      offset += m.latents + m.exogenous;
    }
    this.codeSizes = config.modalities.map((m) => m.latents + m.exogenous);
    this.zIndex = tf.keep(tf.tensor1d(zIdx, 'int32'));
  }

  /** Width of modality m's code block (k_m + e_m). */
  codeSize(m: number): number {
    return this.codeSizes[m] as number;
  }

  /** Names of the flow, adjacency and code-rotation parameters, replicated on every trainer of a group. */
  isShared(paramName: string): boolean {
    return (
      paramName.startsWith('flow/') || paramName.startsWith('adjacency/') || paramName.startsWith('rotation/')
    );
  }

  /**
   * Modality m's code for a block of rows. The posterior noise is drawn for the whole batch and
   * sliced to `window`, so a row gets the same noise whichever trainer encodes it.
   */
  encode(m: number, x: tf.Tensor2D, seed: number, window?: RowWindow): CodeBlock {
    const out = this.part(this.encoders, m).apply(x);
    if (!this.config.stochastic || out.logvar === undefined) {
      return { sample: out.mean, mean: out.mean, logvar: undefined };
    }
    const rows = out.mean.shape[0];
    const batchRows = window?.batchRows ?? rows;
    let noise = tf.randomNormal([batchRows, out.mean.shape[1]], 0, 1, 'float32', noiseSeed(seed, m));
    if (batchRows !== rows) noise = tf.slice(noise, [window?.rowOffset ?? 0, 0], [rows, -1]);
    const sample = tf.add(out.mean, tf.mul(tf.exp(tf.mul(out.logvar, 0.5)), noise)) as tf.Tensor2D;
    return { sample, mean: out.mean, logvar: out.logvar };
  }

  /**
   * alpha-free L_Ind and L_Sp from the codes of every modality (in model order, rows aligned): the
   * part of the objective that couples modalities, computed on the whole batch by every trainer.
   */
  objective(blocks: readonly CodeBlock[], opts: ForwardOptions): { ind: tf.Scalar; sp: tf.Scalar } {
    if (blocks.length !== this.config.modalities.length) {
      throw new Error(`${blocks.length} code blocks for ${this.config.modalities.length} modalities`);
    }
    const code = concat(blocks.map((b) => b.sample));
    const logvar = this.config.stochastic ? concat(blocks.map((b) => b.logvar as tf.Tensor2D)) : undefined;
    // The prior sees the rotated code; the posterior density stays in the encoder's coordinates
    // (a rotation has unit determinant, so log q is the same in either).
    const { z, eta } = this.splitCode(concat(blocks.map((b, m) => this.rotate(m, b.sample))));
    const gate = this.adjacency.gate(opts.training, (opts.seed + 0x9e3779b9) >>> 0);
    const { eps, logDet } = this.flow.forward(z, gate);
    const weights = completeWeights(opts.masks);
    const ind =
      logvar !== undefined && this.config.indEstimator === 'aggregate'
        ? aggregateIndependenceLoss(
            code,
            concat(blocks.map((b) => b.mean)),
            logvar,
            this.logPrior(eps, eta, logDet),
            weights,
          )
        : independenceLoss({ eps, eta, logDet, logvar }, weights);
    const sp = sparsityLoss(this.adjacency.probabilities(), this.spWeights);
    return { ind, sp };
  }

  /** Modality m's reconstruction MSE from its code block, over the rows `mask` keeps. */
  reconstruction(m: number, x: tf.Tensor2D, code: tf.Tensor2D, mask?: tf.Tensor1D): tf.Scalar {
    return reconstructionLoss([x], [this.part(this.decoders, m).apply(code)], [mask]);
  }

  /** All loss terms for a batch (one tensor per modality, rows aligned). Call inside tf.tidy. */
  losses(xs: readonly tf.Tensor2D[], opts: ForwardOptions): LossTerms {
    const blocks = xs.map((x, m) => this.encode(m, x, opts.seed));
    const { ind, sp } = this.objective(blocks, opts);
    const parts = blocks.map((b, m) =>
      this.reconstruction(m, xs[m] as tf.Tensor2D, b.sample, opts.masks?.[m]),
    );
    const recon = (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
    const { alpha } = this.config;
    const total = tf.addN([
      tf.mul(ind, alpha.ind),
      tf.mul(sp, alpha.sp * (opts.spScale ?? 1)),
      tf.mul(recon, alpha.recon),
    ]) as tf.Scalar;
    return { total, ind, sp, recon };
  }

  private part<T>(parts: ReadonlyMap<number, T>, m: number): T {
    const p = parts.get(m);
    if (p === undefined) {
      const name = this.config.modalities[m]?.name ?? String(m);
      throw new Error(`modality ${name} is not built in this model part`);
    }
    return p;
  }

  /** Modality m's code as the prior sees it (rotated when the model has code rotations). */
  private rotate(m: number, code: tf.Tensor2D): tf.Tensor2D {
    return this.rotations[m]?.apply(code) ?? code;
  }

  /** log p(z) + log p(eta) per sample, without the 0.5 log 2 pi constants. */
  private logPrior(eps: tf.Tensor2D, eta: tf.Tensor2D | undefined, logDet: tf.Tensor1D): tf.Tensor1D {
    let lp = tf.sub(logDet, tf.mul(tf.sum(tf.square(eps), 1), 0.5));
    if (eta !== undefined) lp = tf.sub(lp, tf.mul(tf.sum(tf.square(eta), 1), 0.5));
    return lp as tf.Tensor1D;
  }

  /**
   * Splits the code [z(1) eta(1) z(2) eta(2) ...] into z and eta with one SplitV (whose gradient is
   * a concat: gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks).
   */
  private splitCode(code: tf.Tensor2D): { z: tf.Tensor2D; eta: tf.Tensor2D | undefined } {
    const sizes: number[] = [];
    const isZ: boolean[] = [];
    for (const mod of this.config.modalities) {
      sizes.push(mod.latents);
      isZ.push(true);
      if (mod.exogenous > 0) {
        sizes.push(mod.exogenous);
        isZ.push(false);
      }
    }
    const pieces = sizes.length === 1 ? [code] : (tf.split(code, sizes, 1) as tf.Tensor2D[]);
    const zs = pieces.filter((_, k) => isZ[k]);
    const etas = pieces.filter((_, k) => !isZ[k]);
    return { z: concat(zs), eta: etas.length > 0 ? concat(etas) : undefined };
  }

  /** Flow output for given z with the training or evaluation gate (for tests and diagnostics). */
  flowForward(z: tf.Tensor2D, opts: ForwardOptions): { eps: tf.Tensor2D; logDet: tf.Tensor1D } {
    return this.flow.forward(z, this.adjacency.gate(opts.training, opts.seed));
  }

  /**
   * Posterior means of the whole code [z(1) eta(1) z(2) eta(2) ...] as the prior sees it (rotated),
   * (B, sum of k_m + e_m). Call inside tf.tidy.
   */
  encodeCode(xs: readonly tf.Tensor2D[]): tf.Tensor2D {
    return concat(xs.map((x, m) => this.rotate(m, this.part(this.encoders, m).apply(x).mean)));
  }

  /** Posterior means of z (B, d) for a batch: the estimated latents. Call inside tf.tidy. */
  encodeLatents(xs: readonly tf.Tensor2D[]): tf.Tensor2D {
    return tf.gather(this.encodeCode(xs), this.zIndex, 1) as tf.Tensor2D;
  }

  /** Posterior means of modality m's whole code [z eta] (B, k_m + e_m), rotated. Call inside tf.tidy. */
  encodeModalityCode(m: number, x: tf.Tensor2D): tf.Tensor2D {
    return this.rotate(m, this.part(this.encoders, m).apply(x).mean);
  }

  /** Posterior means of modality m's z (B, k_m). Call inside tf.tidy. */
  encodeModalityLatents(m: number, x: tf.Tensor2D): tf.Tensor2D {
    const mean = this.encodeModalityCode(m, x);
    const k = this.config.modalities[m]?.latents ?? 0;
    return k === mean.shape[1] ? mean : (tf.slice(mean, [0, 0], [-1, k]) as tf.Tensor2D);
  }

  /** The learned graph over z, nodes named `z<m>_<i>`. */
  graph(): Graph {
    return this.adjacency.readout(this.layout.names);
  }

  dispose(): void {
    this.params.dispose();
    this.adjacency.dispose();
    for (const r of this.rotations) r?.dispose();
    this.spWeights.dispose();
    this.zIndex.dispose();
  }
}

/** Rows present in every modality (product of the masks), or undefined when none is masked. */
function completeWeights(masks: ForwardOptions['masks']): tf.Tensor1D | undefined {
  const given = (masks ?? []).filter((m): m is tf.Tensor1D => m !== undefined);
  if (given.length === 0) return undefined;
  return given.reduce((a, b) => tf.mul(a, b));
}

function concat(parts: tf.Tensor2D[]): tf.Tensor2D {
  return parts.length === 1 ? (parts[0] as tf.Tensor2D) : tf.concat(parts, 1);
}
