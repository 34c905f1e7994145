import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../trainer/backend/index.js';
import { CrlModel, dagMask, latentLayout, modelConfig } from '../../../../trainer/model/index.js';

const modalities = [
  { name: 'a', kind: 'tabular' as const, dims: 4, latents: 2, exogenous: 1 },
  { name: 'b', kind: 'tabular' as const, dims: 4, latents: 2, exogenous: 1 },
];

describe('adjacency', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  }, 60_000);

  it('masks to the modality order, intra-modal edges only on request', () => {
    const layout = latentLayout(modelConfig(modalities));
    expect(layout.names).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(Array.from(dagMask(layout, false))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(dagMask(layout, true))).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0]);
  });

  it('reads the graph out of the edge probabilities, nodes named as the latents', () => {
    const model = new CrlModel(modelConfig(modalities, { gate: { initLogit: 2 } }), 1);
    const g = model.graph();
    expect(g.nodes).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(g.edges).toEqual([
      [0, 2, '-->'],
      [0, 3, '-->'],
      [1, 2, '-->'],
      [1, 3, '-->'],
    ]);
    tf.tidy(() => {
      const logits = model.adjacency.logits;
      logits.assign(tf.mul(logits, tf.tensor2d([1, 1, 1, 1, 1, 1, 1, 1, 1, -1, 1, 1, -1, 1, 1, 1], [4, 4])));
    });
    expect(model.graph().edges).toEqual([
      [0, 2, '-->'],
      [1, 3, '-->'],
    ]);
    model.dispose();
  });

  for (const [gate, kl] of [
    ['concrete', 'aggregate'],
    ['concrete', 'sample'],
    ['sigmoid', 'aggregate'],
  ] as const) {
    it(`A gets gradient from the likelihood term L_Ind alone (${gate} gate, ${kl} KL)`, () => {
      const model = new CrlModel(modelConfig(modalities, { gate: { kind: gate }, indEstimator: kl }), 3);
      const grad = tf.tidy(() => {
        const x = [
          tf.randomNormal([64, 4], 0, 1, 'float32', 1),
          tf.randomNormal([64, 4], 0, 1, 'float32', 2),
        ] as tf.Tensor2D[];
        const { grads } = tf.variableGrads(
          () => model.losses(x, { training: true, seed: 5 }).ind,
          [model.adjacency.logits],
        );
        return Array.from(grads[model.adjacency.logits.name]!.dataSync());
      });
      const mask = model.adjacency.maskValues;
      const allowed = grad.filter((_, k) => mask[k] === 1);
      expect(allowed.every((g) => Number.isFinite(g))).toBe(true);
      expect(allowed.some((g) => Math.abs(g) > 1e-6)).toBe(true);
      // Masked entries never move.
      expect(grad.filter((_, k) => mask[k] === 0).every((g) => g === 0)).toBe(true);
      model.dispose();
    });
  }
});
