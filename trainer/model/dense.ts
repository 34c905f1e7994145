/**
 * A dense layer x·W + b with its gradient written out with explicit transposes. tfjs's own
 * MatMul gradient multiplies with transpose flags, which the wasm backend runs 4-10x slower than a
 * transpose followed by a plain product (measured 19 ms against 2 ms for the 1568x64 layer of an
 * image encoder at batch 256), and dense layers are most of every model here.
 */
import * as tf from '@tensorflow/tfjs-core';

export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((xIn, wIn, bIn, save) => {
    const xs = xIn as tf.Tensor2D;
    const w = wIn as tf.Tensor2D;
    (save as tf.GradSaveFunc)([xs, w]);
    return {
      value: tf.add(tf.matMul(xs, w), bIn as tf.Tensor1D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor2D;
        return [tf.matMul(g, tf.transpose(sw)), tf.matMul(tf.transpose(sx), g), tf.sum(g, 0)];
      },
    };
  });
  return op(x, kernel, bias) as tf.Tensor2D;
}
