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

export interface ForwardOptions {
  /** Training draws the concrete gate; evaluation uses the hard readout gate. */
  training: boolean;
  /** Seed of this step's random draws (posterior sample, gate noise). */
  seed: number;
  /** Multiplier of alpha_Sp (a warm-up ramp; default 1). */
  spScale?: number;
}

export class CrlModel {
  readonly params: ParamStore;
  readonly layout: LatentLayout;
  readonly adjacency: Adjacency;
  private readonly encoders: Encoder[];
  private readonly decoders: Decoder[];
  private readonly flow: ComponentFlow;
  private readonly spWeights: tf.Tensor2D;
  /** Column indices of z in the concatenated code [z(1) eta(1) z(2) eta(2) ...]. */
  private readonly zIndex: tf.Tensor1D;
  private readonly codeSizes: number[];

  constructor(
    readonly config: ModelConfig,
    seed: number,
  ) {
    this.params = new ParamStore(new Rng(seed).fork('init'));
    this.layout = latentLayout(config);
    this.encoders = config.modalities.map((m) => createEncoder(m, config, this.params, `enc/${m.name}`));
    this.decoders = config.modalities.map((m) => createDecoder(m, config, this.params, `dec/${m.name}`));
    this.flow = new ComponentFlow(this.layout.d, config.flowHidden, this.params, config.negativeSlope);
    this.adjacency = new Adjacency(this.layout, config.gate, this.params);
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

  /** All loss terms for a batch (one tensor per modality, rows aligned). Call inside tf.tidy. */
  losses(xs: readonly tf.Tensor2D[], opts: ForwardOptions): LossTerms {
    const outs = this.encoders.map((enc, m) => enc.apply(xs[m] as tf.Tensor2D));
    const mean = concat(outs.map((o) => o.mean));
    let code = mean;
    let logvar: tf.Tensor2D | undefined;
    if (this.config.stochastic) {
      logvar = concat(outs.map((o) => o.logvar as tf.Tensor2D));
      const noise = tf.randomNormal(mean.shape, 0, 1, 'float32', opts.seed);
      code = tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), noise));
    }
    const { z, eta, codes } = this.splitCode(code);
    const gate = this.adjacency.gate(opts.training, (opts.seed + 0x9e3779b9) >>> 0);
    const { eps, logDet } = this.flow.forward(z, gate);
    const ind =
      logvar !== undefined && this.config.indEstimator === 'aggregate'
        ? aggregateIndependenceLoss(code, mean, logvar, this.logPrior(eps, eta, logDet))
        : independenceLoss({ eps, eta, logDet, logvar });
    const sp = sparsityLoss(this.adjacency.probabilities(), this.spWeights);
    const xHats = this.decoders.map((dec, m) => dec.apply(codes[m] as tf.Tensor2D));
    const recon = reconstructionLoss(xs, xHats);
    const { alpha } = this.config;
    const total = tf.addN([
      tf.mul(ind, alpha.ind),
      tf.mul(sp, alpha.sp * (opts.spScale ?? 1)),
      tf.mul(recon, alpha.recon),
    ]) as tf.Scalar;
    return { total, ind, sp, recon };
  }

  /** log p(z) + log p(eta) per sample, without the 0.5 log 2 pi constants. */
  private logPrior(eps: tf.Tensor2D, eta: tf.Tensor2D | undefined, logDet: tf.Tensor1D): tf.Tensor1D {
    let lp = tf.sub(logDet, tf.mul(tf.sum(tf.square(eps), 1), 0.5));
    if (eta !== undefined) lp = tf.sub(lp, tf.mul(tf.sum(tf.square(eta), 1), 0.5));
    return lp as tf.Tensor1D;
  }

  /**
   * Splits the code [z(1) eta(1) z(2) eta(2) ...] into z, eta and the per-modality codes with one
   * SplitV (whose gradient is a concat: gather's gradient needs UnsortedSegmentSum, which the
   * wasm backend lacks).
   */
  private splitCode(code: tf.Tensor2D): {
    z: tf.Tensor2D;
    eta: tf.Tensor2D | undefined;
    codes: tf.Tensor2D[];
  } {
    const sizes: number[] = [];
    const owner: { m: number; part: 'z' | 'eta' }[] = [];
    this.config.modalities.forEach((mod, m) => {
      sizes.push(mod.latents);
      owner.push({ m, part: 'z' });
      if (mod.exogenous > 0) {
        sizes.push(mod.exogenous);
        owner.push({ m, part: 'eta' });
      }
    });
    const pieces = sizes.length === 1 ? [code] : (tf.split(code, sizes, 1) as tf.Tensor2D[]);
    const zs: tf.Tensor2D[] = [];
    const etas: tf.Tensor2D[] = [];
    const perModality: tf.Tensor2D[][] = this.config.modalities.map(() => []);
    pieces.forEach((piece, k) => {
      const o = owner[k] as { m: number; part: 'z' | 'eta' };
      (o.part === 'z' ? zs : etas).push(piece);
      (perModality[o.m] as tf.Tensor2D[]).push(piece);
    });
    return {
      z: concat(zs),
      eta: etas.length > 0 ? concat(etas) : undefined,
      codes: this.codeSizes.length === 1 ? [code] : perModality.map((p) => concat(p)),
    };
  }

  /** Flow output for given z with the training or evaluation gate (for tests and diagnostics). */
  flowForward(z: tf.Tensor2D, opts: ForwardOptions): { eps: tf.Tensor2D; logDet: tf.Tensor1D } {
    return this.flow.forward(z, this.adjacency.gate(opts.training, opts.seed));
  }

  /** Posterior means of z (B, d) for a batch: the estimated latents. Call inside tf.tidy. */
  encodeLatents(xs: readonly tf.Tensor2D[]): tf.Tensor2D {
    const mean = concat(this.encoders.map((enc, m) => enc.apply(xs[m] as tf.Tensor2D).mean));
    return tf.gather(mean, this.zIndex, 1) as tf.Tensor2D;
  }

  /** The learned graph over z, nodes named `z<m>_<i>`. */
  graph(): Graph {
    return this.adjacency.readout(this.layout.names);
  }

  dispose(): void {
    this.params.dispose();
    this.adjacency.dispose();
    this.spWeights.dispose();
    this.zIndex.dispose();
  }
}

function concat(parts: tf.Tensor2D[]): tf.Tensor2D {
  return parts.length === 1 ? (parts[0] as tf.Tensor2D) : tf.concat(parts, 1);
}
