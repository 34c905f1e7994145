/** MLP encoder for tabular modalities. */
import * as tf from '@tensorflow/tfjs-core';
import type { ModalitySpec, ModelConfig } from '../config.js';
import { Mlp } from '../mlp.js';
import type { ParamStore } from '../params.js';
import type { Encoder, EncoderOutput } from './index.js';

export class TabularEncoder implements Encoder {
  private readonly mlp: Mlp;
  private readonly code: number;
  private readonly stochastic: boolean;

  constructor(
    readonly modality: ModalitySpec,
    cfg: ModelConfig,
    params: ParamStore,
    prefix: string,
  ) {
    this.code = modality.latents + modality.exogenous;
    this.stochastic = cfg.stochastic;
    const out = this.stochastic ? 2 * this.code : this.code;
    const sizes = [modality.dims, ...Array.from({ length: cfg.layers }, () => cfg.hidden), out];
    this.mlp = new Mlp(params, prefix, sizes, cfg.negativeSlope);
  }

  apply(x: tf.Tensor2D): EncoderOutput {
    const out = this.mlp.apply(x);
    if (!this.stochastic) return { mean: out, logvar: undefined };
    const [mean, logvar] = tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    return { mean, logvar };
  }
}
