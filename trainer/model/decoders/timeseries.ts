/** Convolutional decoder for time series: the image decoder over a map of height 1. */
import type { ModalitySpec, ModelConfig } from '../config.js';
import { seriesGrid } from '../encoders/timeseries.js';
import type { ParamStore } from '../params.js';
import { ConvDecoder } from './image.js';

export class TimeSeriesDecoder extends ConvDecoder {
  constructor(modality: ModalitySpec, cfg: ModelConfig, params: ParamStore, prefix: string) {
    super(modality, cfg, params, prefix, seriesGrid(modality, cfg));
  }
}
