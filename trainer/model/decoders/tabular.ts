/** MLP decoder for tabular modalities. */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModalitySpec, ModelConfig } from '../config.js';
import { Mlp } from '../mlp.js';
import type { ParamStore } from '../params.js';
import type { Decoder } from './index.js';

export class TabularDecoder implements Decoder {
  private readonly mlp: Mlp;

  constructor(
    readonly modality: ModalitySpec,
    cfg: ModelConfig,
    params: ParamStore,
    prefix: string,
  ) {
    const sizes = [
      modality.latents + modality.exogenous,
      ...Array.from({ length: cfg.layers }, () => cfg.hidden),
      modality.dims,
    ];
    this.mlp = new Mlp(params, prefix, sizes, cfg.negativeSlope);
  }

  apply(code: tf.Tensor2D): tf.Tensor2D {
    return this.mlp.apply(code);
  }
}
