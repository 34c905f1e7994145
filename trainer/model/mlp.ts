/** A dense MLP with LeakyReLU hidden layers, the building block of tabular encoders and decoders. */
import * as tf from '@tensorflow/tfjs-core';
import { dense } from './dense.js';
import type { ParamStore } from './params.js';

export class Mlp {
  private readonly layers: { kernel: tf.Variable; bias: tf.Variable }[] = [];

  constructor(
    params: ParamStore,
    prefix: string,
    sizes: number[],
    private readonly negativeSlope: number,
  ) {
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l] as number;
      const fanOut = sizes[l + 1] as number;
      this.layers.push({
        kernel: params.add(`${prefix}/dense${l}/kernel`, [fanIn, fanOut], { kind: 'glorot', fanIn, fanOut }),
        bias: params.add(`${prefix}/dense${l}/bias`, [fanOut], { kind: 'constant', value: 0 }),
      });
    }
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    this.layers.forEach((layer, l) => {
      h = dense(h, layer.kernel as tf.Tensor2D, layer.bias as tf.Tensor1D);
      if (l + 1 < this.layers.length) h = tf.leakyRelu(h, this.negativeSlope);
    });
    return h;
  }
}
