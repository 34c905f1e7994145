/**
 * Decoders by modality kind: `(z(m), eta(m)) -> x̂(m)`. A new modality kind adds a file here and a
 * case below.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModalitySpec, ModelConfig } from '../config.js';
import type { ParamStore } from '../params.js';
import { ImageDecoder } from './image.js';
import { TabularDecoder } from './tabular.js';
import { TimeSeriesDecoder } from './timeseries.js';

export interface Decoder {
  readonly modality: ModalitySpec;
  /** `code` is (B, k_m + e_m), z(m) first; returns (B, d_m). */
  apply(code: tf.Tensor2D): tf.Tensor2D;
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
    case 'timeseries':
      return new TimeSeriesDecoder(spec, cfg, params, prefix);
    case 'image':
      return new ImageDecoder(spec, cfg, params, prefix);
    default:
      return unknownKind(spec.kind);
  }
}

/** Compile-time exhaustiveness: a new `ModalityKind` without a case above fails to type-check here. */
function unknownKind(kind: never): never {
  throw new Error(`no decoder for modality kind ${String(kind)}`);
}
