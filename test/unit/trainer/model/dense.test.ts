import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../trainer/backend/index.js';
import { dense } from '../../../../trainer/model/dense.js';

describe('dense layer with explicit-transpose gradient', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  }, 60_000);

  it('matches the value and gradients of matMul + bias', () => {
    const [mine, ref] = tf.tidy(() => {
      const x = tf.randomNormal([17, 9], 0, 1, 'float32', 1) as tf.Tensor2D;
      const w = tf.randomNormal([9, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
      const b = tf.randomNormal([5], 0, 1, 'float32', 3) as tf.Tensor1D;
      const up = tf.randomNormal([17, 5], 0, 1, 'float32', 4);
      // A non-uniform upstream gradient, so a transposed or summed-wrong term shows.
      const loss = (f: (a: tf.Tensor2D, k: tf.Tensor2D, c: tf.Tensor1D) => tf.Tensor2D) =>
        tf.grads((a, k, c) => tf.sum(tf.mul(f(a as tf.Tensor2D, k as tf.Tensor2D, c as tf.Tensor1D), up)))([
          x,
          w,
          b,
        ]);
      const a = [dense(x, w, b), ...loss(dense)].map((t) => Array.from(t.dataSync()));
      const r = [
        tf.add(tf.matMul(x, w), b),
        ...loss((p, k, c) => tf.add(tf.matMul(p, k), c) as tf.Tensor2D),
      ].map((t) => Array.from(t.dataSync()));
      return [a, r];
    });
    mine.forEach((vals, i) => vals.forEach((v, j) => expect(v).toBeCloseTo(ref[i]![j]!, 4)));
    expect(mine.map((v) => v.length)).toEqual([85, 153, 45, 5]);
  });
});
