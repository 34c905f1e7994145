/**
 * Missing modalities: a masked batch must score exactly what the same batch without the masked
 * rows scores, so a participant who lacks a modality neither helps nor hurts its losses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../trainer/backend/index.js';
import {
  aggregateIndependenceLoss,
  independenceLoss,
  reconstructionLoss,
} from '../../../../trainer/model/index.js';

describe('masked losses', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  }, 60_000);

  const B = 40;
  const K = 5;
  const keep = Array.from({ length: B }, (_, i) => (i % 3 === 1 ? 0 : 1));
  const kept = keep.flatMap((k, i) => (k ? [i] : []));

  function rowsOf(t: tf.Tensor, rows: number[]): tf.Tensor {
    return tf.gather(t, tf.tensor1d(rows, 'int32'));
  }

  it('reconstruction over the present rows only', () => {
    const [masked, subset] = tf.tidy(() => {
      const x = tf.randomNormal([B, 7], 0, 1, 'float32', 1) as tf.Tensor2D;
      const y = tf.randomNormal([B, 7], 0, 1, 'float32', 2) as tf.Tensor2D;
      const m = reconstructionLoss([x], [y], [tf.tensor1d(keep)]);
      const s = reconstructionLoss([rowsOf(x, kept) as tf.Tensor2D], [rowsOf(y, kept) as tf.Tensor2D]);
      return [m.dataSync()[0]!, s.dataSync()[0]!];
    });
    expect(masked).toBeCloseTo(subset, 5);
  });

  it('aggregate-posterior KL over the complete rows only (the mixture leaves out missing rows)', () => {
    const [masked, subset, unmasked] = tf.tidy(() => {
      const mean = tf.randomNormal([B, K], 0, 1, 'float32', 3) as tf.Tensor2D;
      const logvar = tf.randomUniform([B, K], -2, 0, 'float32', 4) as tf.Tensor2D;
      const sample = tf.add(
        mean,
        tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.randomNormal([B, K], 0, 1, 'float32', 5)),
      ) as tf.Tensor2D;
      const logPrior = tf.mul(tf.sum(tf.square(sample), 1), -0.5) as tf.Tensor1D;
      const sub = (t: tf.Tensor) => rowsOf(t, kept);
      return [
        aggregateIndependenceLoss(sample, mean, logvar, logPrior, tf.tensor1d(keep), 16).dataSync()[0]!,
        aggregateIndependenceLoss(
          sub(sample) as tf.Tensor2D,
          sub(mean) as tf.Tensor2D,
          sub(logvar) as tf.Tensor2D,
          sub(logPrior) as tf.Tensor1D,
        ).dataSync()[0]!,
        aggregateIndependenceLoss(sample, mean, logvar, logPrior).dataSync()[0]!,
      ];
    });
    expect(masked).toBeCloseTo(subset, 4);
    // The masked rows do change the unmasked value: the test would notice a mask that does nothing.
    expect(Math.abs(unmasked - subset)).toBeGreaterThan(1e-3);
  });

  it('per-sample KL over the complete rows only', () => {
    const [masked, subset] = tf.tidy(() => {
      const eps = tf.randomNormal([B, 3], 0, 1, 'float32', 6) as tf.Tensor2D;
      const logDet = tf.randomNormal([B], 0, 1, 'float32', 7) as tf.Tensor1D;
      const m = independenceLoss({ eps, eta: undefined, logDet, logvar: undefined }, tf.tensor1d(keep));
      const s = independenceLoss({
        eps: rowsOf(eps, kept) as tf.Tensor2D,
        eta: undefined,
        logDet: rowsOf(logDet, kept) as tf.Tensor1D,
        logvar: undefined,
      });
      return [m.dataSync()[0]!, s.dataSync()[0]!];
    });
    expect(masked).toBeCloseTo(subset, 5);
  });
});
