import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../trainer/backend/index.js';
import {
  aggregateIndependenceLoss,
  CrlModel,
  independenceLoss,
  modelConfig,
} from '../../../../trainer/model/index.js';

describe('L_Ind', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  }, 60_000);

  /**
   * The degenerate direction: the encoder shrinks z by c (posterior std too) and the flow's scale
   * follows (s = log c), so eps is unchanged. Without the posterior entropy the loss falls by
   * d log(1/c) without bound; the KL form (stochastic encoder) does not move.
   */
  function lossAtScale(c: number, stochastic: boolean): number {
    return tf.tidy(() => {
      const B = 512;
      const d = 3;
      const eps = tf.randomNormal([B, d], 0, 1, 'float32', 9) as tf.Tensor2D;
      const eta = tf.randomNormal([B, 1], 0, 1, 'float32', 10) as tf.Tensor2D;
      const s = Math.log(c);
      const logDet = tf.fill([B], -d * s) as tf.Tensor1D;
      const logvar = stochastic
        ? (tf.concat(
            [tf.fill([B, d], Math.log(0.1 * c * c)), tf.fill([B, 1], Math.log(0.1))],
            1,
          ) as tf.Tensor2D)
        : undefined;
      return independenceLoss({ eps, eta, logDet, logvar }).dataSync()[0]!;
    });
  }

  it('is unbounded below for a deterministic encoder and scale-invariant for the stochastic one', () => {
    const det = [1, 1e-2, 1e-4].map((c) => lossAtScale(c, false));
    expect(det[1]! - det[0]!).toBeCloseTo(3 * Math.log(1e-2), 3);
    expect(det[2]!).toBeLessThan(det[1]! - 10);
    const sto = [1, 1e-2, 1e-4].map((c) => lossAtScale(c, true));
    expect(sto[1]!).toBeCloseTo(sto[0]!, 3);
    expect(sto[2]!).toBeCloseTo(sto[0]!, 3);
  });

  it('the aggregate-posterior estimate is also invariant along the degenerate direction', () => {
    const at = (c: number): number =>
      tf.tidy(() => {
        const B = 128;
        const d = 3;
        // Posterior means spread like the prior, std 0.3; everything in z shrinks by c.
        const meanZ = tf.mul(tf.randomNormal([B, d], 0, 1, 'float32', 3), c);
        const meanEta = tf.randomNormal([B, 1], 0, 1, 'float32', 4);
        const mean = tf.concat([meanZ, meanEta], 1) as tf.Tensor2D;
        const logvar = tf.concat(
          [tf.fill([B, d], Math.log(0.09 * c * c)), tf.fill([B, 1], Math.log(0.09))],
          1,
        ) as tf.Tensor2D;
        const noise = tf.randomNormal([B, d + 1], 0, 1, 'float32', 5);
        const sample = tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), noise)) as tf.Tensor2D;
        const [z, eta] = tf.split(sample, [d, 1], 1) as [tf.Tensor2D, tf.Tensor2D];
        const eps = tf.div(z, c); // flow with mu = 0, s = log c
        const logPrior = tf.sub(
          tf.fill([B], -d * Math.log(c)),
          tf.mul(tf.add(tf.sum(tf.square(eps), 1), tf.sum(tf.square(eta), 1)), 0.5),
        ) as tf.Tensor1D;
        return aggregateIndependenceLoss(sample, mean, logvar, logPrior).dataSync()[0]!;
      });
    const base = at(1);
    expect(Number.isFinite(base)).toBe(true);
    expect(at(1e-2)).toBeCloseTo(base, 2);
    expect(at(1e-4)).toBeCloseTo(base, 2);
  });

  it('the aggregate-posterior estimate, chunked over rows, equals the direct (B, B, K) formula', () => {
    const [fast, direct] = tf.tidy(() => {
      const B = 40;
      const K = 5;
      const mean = tf.randomNormal([B, K], 0, 1, 'float32', 11) as tf.Tensor2D;
      const logvar = tf.randomUniform([B, K], -3, 1, 'float32', 12) as tf.Tensor2D;
      const sample = tf.add(mean, tf.randomNormal([B, K], 0, 0.5, 'float32', 13)) as tf.Tensor2D;
      const logPrior = tf.randomNormal([B], -4, 1, 'float32', 14) as tf.Tensor1D;
      const diff = tf.sub(tf.expandDims(sample, 1), tf.expandDims(mean, 0));
      const pair = tf.mul(
        tf.sum(
          tf.add(tf.mul(tf.square(diff), tf.expandDims(tf.exp(tf.neg(logvar)), 0)), tf.expandDims(logvar, 0)),
          2,
        ),
        -0.5,
      );
      const ref = tf.mean(tf.sub(tf.sub(tf.logSumExp(pair, 1), Math.log(B)), logPrior));
      return [
        aggregateIndependenceLoss(sample, mean, logvar, logPrior, undefined, 16).dataSync()[0]!,
        ref.dataSync()[0]!,
      ];
    });
    expect(fast).toBeCloseTo(direct, 4);
  });

  it('all terms of the full model are finite, sparsity counts the allowed edges', () => {
    const model = new CrlModel(
      modelConfig(
        [
          { name: 'a', kind: 'tabular', dims: 5, latents: 2, exogenous: 1 },
          { name: 'b', kind: 'tabular', dims: 5, latents: 2, exogenous: 0 },
        ],
        { gate: { initLogit: 0 } },
      ),
      2,
    );
    const vals = tf.tidy(() => {
      const x = [
        tf.randomNormal([32, 5], 0, 1, 'float32', 1),
        tf.randomNormal([32, 5], 0, 1, 'float32', 2),
      ] as tf.Tensor2D[];
      const l = model.losses(x, { training: true, seed: 1 });
      return [l.total, l.ind, l.sp, l.recon].map((t) => t.dataSync()[0]!);
    });
    expect(vals.every(Number.isFinite)).toBe(true);
    // Four inter-modal edges at probability sigmoid(0) = 0.5.
    expect(vals[2]).toBeCloseTo(2, 5);
    model.dispose();
  });
});
