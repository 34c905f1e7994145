/**
 * Convolutional encoder for images, and the generic encoder over any `ConvGrid` that the time-series
 * encoder shares: stride-2 'same' convs with LeakyReLU, then a dense hidden layer and the code layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConvLayer, featureSizes, type ConvGrid } from '../conv.js';
import { rowShape, type ModalitySpec, type ModelConfig } from '../config.js';
import { Mlp } from '../mlp.js';
import type { ParamStore } from '../params.js';
import type { Encoder, EncoderOutput } from './index.js';

/** An image row (H, W, C) as it is, square kernels, stride 2 both ways. */
export function imageGrid(spec: ModalitySpec, cfg: ModelConfig): ConvGrid {
  const [height, width, channels] = rowShape(spec) as [number, number, number];
  const k = cfg.convKernel;
  return { height, width, channels, kernel: [k, k], strides: [2, 2] };
}

export class ConvEncoder implements Encoder {
  private readonly convs: ConvLayer[] = [];
  private readonly mlp: Mlp;
  private readonly flat: number;
  private readonly stochastic: boolean;
  private readonly negativeSlope: number;

  constructor(
    readonly modality: ModalitySpec,
    cfg: ModelConfig,
    params: ParamStore,
    prefix: string,
    private readonly grid: ConvGrid,
  ) {
    this.stochastic = cfg.stochastic;
    this.negativeSlope = cfg.negativeSlope;
    let inC = grid.channels;
    cfg.convChannels.forEach((outC, l) => {
      this.convs.push(new ConvLayer(params, `${prefix}/conv${l}`, inC, outC, grid));
      inC = outC;
    });
    const [h, w] = featureSizes(grid, cfg.convChannels.length).at(-1) as [number, number];
    this.flat = h * w * inC;
    const code = modality.latents + modality.exogenous;
    const out = this.stochastic ? 2 * code : code;
    this.mlp = new Mlp(params, prefix, [this.flat, cfg.hidden, out], cfg.negativeSlope);
  }

  apply(x: tf.Tensor2D): EncoderOutput {
    const { height, width, channels } = this.grid;
    let h = tf.reshape(x, [-1, height, width, channels]) as tf.Tensor4D;
    for (const conv of this.convs) h = tf.leakyRelu(conv.apply(h), this.negativeSlope);
    const out = this.mlp.apply(tf.reshape(h, [-1, this.flat]));
    if (!this.stochastic) return { mean: out, logvar: undefined };
    const [mean, logvar] = tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    return { mean, logvar };
  }
}

export class ImageEncoder extends ConvEncoder {
  constructor(modality: ModalitySpec, cfg: ModelConfig, params: ParamStore, prefix: string) {
    super(modality, cfg, params, prefix, imageGrid(modality, cfg));
  }
}
