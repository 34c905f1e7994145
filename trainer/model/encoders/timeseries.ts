/**
 * Convolutional encoder for time series: 1-D convs along time, run as the image encoder's 2-D convs
 * over a map of height 1, so both kinds share one code path and one custom gradient.
 */
import type { ConvGrid } from '../conv.js';
import { rowShape, type ModalitySpec, type ModelConfig } from '../config.js';
import type { ParamStore } from '../params.js';
import { ConvEncoder } from './image.js';

/** A series row (T, C), time-major, as a (1, T, C) map: kernels (1, k), stride 2 along time. */
export function seriesGrid(spec: ModalitySpec, cfg: ModelConfig): ConvGrid {
  const [width, channels] = rowShape(spec) as [number, number];
  return { height: 1, width, channels, kernel: [1, cfg.convKernel], strides: [1, 2] };
}

export class TimeSeriesEncoder extends ConvEncoder {
  constructor(modality: ModalitySpec, cfg: ModelConfig, params: ParamStore, prefix: string) {
    super(modality, cfg, params, prefix, seriesGrid(modality, cfg));
  }
}
