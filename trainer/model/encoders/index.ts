/**
 * Encoders by modality kind: `x(m) -> (z(m), eta(m))`, as a mean and (for the stochastic encoder) a
 * log-variance over the k_m + e_m code, z first. A new modality kind adds a file here and a case
 * below; nothing else changes.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModalitySpec, ModelConfig } from '../config.js';
import type { ParamStore } from '../params.js';
import { ImageEncoder } from './image.js';
import { TabularEncoder } from './tabular.js';
import { TimeSeriesEncoder } from './timeseries.js';

export interface EncoderOutput {
  /** (B, k_m + e_m): z(m) columns first, then eta(m). */
  mean: tf.Tensor2D;
  /** (B, k_m + e_m) log-variance, or undefined for a deterministic encoder. */
  logvar: tf.Tensor2D | undefined;
}

export interface Encoder {
  readonly modality: ModalitySpec;
  apply(x: tf.Tensor2D): EncoderOutput;
}

export function createEncoder(
  spec: ModalitySpec,
  cfg: ModelConfig,
  params: ParamStore,
  prefix: string,
): Encoder {
  switch (spec.kind) {
    case 'tabular':
      return new TabularEncoder(spec, cfg, params, prefix);
    case 'timeseries':
      return new TimeSeriesEncoder(spec, cfg, params, prefix);
    case 'image':
      return new ImageEncoder(spec, cfg, params, prefix);
    default:
      return unknownKind(spec.kind);
  }
}

/** Compile-time exhaustiveness: a new `ModalityKind` without a case above fails to type-check here. */
function unknownKind(kind: never): never {
  throw new Error(`no encoder for modality kind ${String(kind)}`);
}
