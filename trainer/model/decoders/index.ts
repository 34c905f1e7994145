/**
 * Decoders by modality kind: `(z(m), eta(m)) -> x̂(m)`. A new modality kind adds a file here and a
 * case below.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModalitySpec, ModelConfig } from '../config.js';
import { Mlp } from '../mlp.js';
import type { ParamStore } from '../params.js';

export interface Decoder {
  readonly modality: ModalitySpec;
  /** `code` is (B, k_m + e_m), z(m) first; returns (B, d_m). */
  apply(code: tf.Tensor2D): tf.Tensor2D;
}

class TabularDecoder implements Decoder {
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

export function createDecoder(
  spec: ModalitySpec,
  cfg: ModelConfig,
  params: ParamStore,
  prefix: string,
): Decoder {
  switch (spec.kind) {
    case 'tabular':
      return new TabularDecoder(spec, cfg, params, prefix);
    default:
      throw new Error(`no encoder/decoder for modality kind ${spec.kind} yet`);
  }
}
