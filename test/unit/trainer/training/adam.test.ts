import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../trainer/backend/index.js';
import type { NamedParam } from '../../../../trainer/model/index.js';
import { DEFAULT_ADAM, FlatAdam } from '../../../../trainer/training/index.js';

function params(): NamedParam[] {
  return [
    { name: 'flow/w1', variable: tf.variable(tf.tensor1d([1, 2, 3]), true, `adam-test-w-${Math.random()}`) },
    {
      name: 'adjacency/logits',
      variable: tf.variable(tf.tensor1d([2, 2]), true, `adam-test-a-${Math.random()}`),
    },
  ];
}

describe('FlatAdam learning-rate scales', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  }, 60_000);

  it('scales the update of the matching parameters only', () => {
    const grads = [tf.tensor1d([0.5, -1, 2]), tf.tensor1d([0.3, -0.7])];
    const plain = params();
    const scaled = params();
    const a = new FlatAdam(plain, DEFAULT_ADAM);
    const b = new FlatAdam(scaled, { ...DEFAULT_ADAM, lrScale: { 'adjacency/': 4 } });
    a.apply(grads, 0.01).dispose();
    b.apply(grads, 0.01).dispose();
    expect(Array.from(scaled[0]!.variable.dataSync())).toEqual(Array.from(plain[0]!.variable.dataSync()));
    const delta = (ps: NamedParam[]) => Array.from(ps[1]!.variable.dataSync(), (v) => v - 2);
    delta(scaled).forEach((d, i) => expect(d).toBeCloseTo(4 * delta(plain)[i]!, 6));
    expect(() => new FlatAdam(params(), { ...DEFAULT_ADAM, lrScale: { 'flow/': 0 } })).toThrow(/must be > 0/);
    for (const p of [...plain, ...scaled]) p.variable.dispose();
    grads.forEach((g) => g.dispose());
    a.dispose();
    b.dispose();
  });
});
