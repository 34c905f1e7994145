/**
 * Convolutional decoder for images, and the generic decoder over any `ConvGrid` that the time-series
 * decoder shares. It mirrors the encoder: a dense hidden layer, a dense layer to the smallest feature
 * map, then stride-2 transposed convs back through the encoder's map sizes to the row's channels,
 * with a linear output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { featureSizes, TransposedConvLayer, type ConvGrid } from '../conv.js';
import type { ModalitySpec, ModelConfig } from '../config.js';
import { imageGrid } from '../encoders/image.js';
import { Mlp } from '../mlp.js';
import type { ParamStore } from '../params.js';
import type { Decoder } from './index.js';

export class ConvDecoder implements Decoder {
  private readonly mlp: Mlp;
  private readonly deconvs: TransposedConvLayer[] = [];
  /** (h, w, C) of the smallest feature map, where the transposed convs start. */
  private readonly start: [number, number, number];
  private readonly negativeSlope: number;

  constructor(
    readonly modality: ModalitySpec,
    cfg: ModelConfig,
    params: ParamStore,
    prefix: string,
    grid: ConvGrid,
  ) {
    this.negativeSlope = cfg.negativeSlope;
    const channels = cfg.convChannels;
    const layers = channels.length;
    const sizes = featureSizes(grid, layers);
    const [h, w] = sizes[layers] as [number, number];
    const startC = channels[layers - 1] as number;
    this.start = [h, w, startC];
    const code = modality.latents + modality.exogenous;
    this.mlp = new Mlp(params, prefix, [code, cfg.hidden, h * w * startC], cfg.negativeSlope);
    for (let j = 0; j < layers; j++) {
      const l = layers - 1 - j; // the encoder layer this one undoes
      const inC = channels[l] as number;
      const outC = l > 0 ? (channels[l - 1] as number) : grid.channels;
      const outSize = sizes[l] as [number, number];
      this.deconvs.push(new TransposedConvLayer(params, `${prefix}/deconv${j}`, inC, outC, outSize, grid));
    }
  }

  apply(code: tf.Tensor2D): tf.Tensor2D {
    const rows = code.shape[0];
    const start = tf.leakyRelu(this.mlp.apply(code), this.negativeSlope);
    let h = tf.reshape(start, [rows, ...this.start]) as tf.Tensor4D;
    this.deconvs.forEach((deconv, j) => {
      h = deconv.apply(h);
      if (j + 1 < this.deconvs.length) h = tf.leakyRelu(h, this.negativeSlope);
    });
    return tf.reshape(h, [rows, this.modality.dims]);
  }
}

export class ImageDecoder extends ConvDecoder {
  constructor(modality: ModalitySpec, cfg: ModelConfig, params: ParamStore, prefix: string) {
    super(modality, cfg, params, prefix, imageGrid(modality, cfg));
  }
}
