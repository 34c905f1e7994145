import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../../common/random.js';
import { selectBackend } from '../../../../../trainer/backend/index.js';
import { CrlModel, modelConfig, type ModalitySpec } from '../../../../../trainer/model/index.js';

const SPECS: ModalitySpec[] = [
  { name: 'img', kind: 'image', dims: 16 * 12, shape: [16, 12, 1], latents: 2, exogenous: 1 },
  { name: 'tab', kind: 'tabular', dims: 5, latents: 2, exogenous: 1 },
  { name: 'ts', kind: 'timeseries', dims: 30 * 2, shape: [30, 2], latents: 2, exogenous: 0 },
];
const B = 16;

function batch(): tf.Tensor2D[] {
  const rng = new Rng('crl-conv-batch');
  return SPECS.map((m) =>
    tf.tensor2d(
      Float32Array.from({ length: B * m.dims }, () => rng.normal()),
      [B, m.dims],
    ),
  );
}

/** Loss terms and every parameter's gradient on the current backend, as plain numbers. */
function lossesAndGrads(): { terms: Record<string, number>; grads: Map<string, Float32Array> } {
  const model = new CrlModel(modelConfig(SPECS, { hidden: 16, convChannels: [4, 8] }), 7);
  const xs = batch();
  const terms: Record<string, number> = {};
  const { value, grads } = tf.variableGrads(() => {
    const l = model.losses(xs, { training: true, seed: 11 });
    for (const key of ['ind', 'sp', 'recon'] as const) terms[key] = l[key].dataSync()[0]!;
    return l.total;
  });
  terms.total = value.dataSync()[0]!;
  const named = new Map<string, Float32Array>();
  for (const [tfName, g] of Object.entries(grads))
    named.set(model.params.nameOf(tfName), g.dataSync() as Float32Array);
  value.dispose();
  tf.dispose(grads);
  xs.forEach((x) => x.dispose());
  model.dispose();
  return { terms, grads: named };
}

describe('CrlModel with image, tabular and time-series modalities', () => {
  let wasm: ReturnType<typeof lossesAndGrads>;

  beforeAll(async () => {
    await selectBackend('wasm');
    wasm = lossesAndGrads();
  }, 60_000);

  it('builds and computes finite losses on the wasm backend', () => {
    for (const [key, v] of Object.entries(wasm.terms)) expect(Number.isFinite(v), key).toBe(true);
    expect(wasm.terms.recon).toBeGreaterThan(0);
  });

  it('gives every encoder and decoder parameter of the conv modalities a non-zero gradient', () => {
    for (const m of ['img', 'ts']) {
      const names = [...wasm.grads.keys()].filter(
        (n) => n.startsWith(`enc/${m}/`) || n.startsWith(`dec/${m}/`),
      );
      // conv0, conv1, dense0, dense1 (kernel and bias each) for the encoder; dense0, dense1, deconv0, deconv1 for the decoder
      expect(names.length, m).toBe(16);
      expect(names.some((n) => n.includes('/conv0/kernel'))).toBe(true);
      expect(names.some((n) => n.includes('/deconv1/kernel'))).toBe(true);
      for (const n of names) {
        const g = wasm.grads.get(n)!;
        expect(g.every(Number.isFinite), n).toBe(true);
        expect(
          g.some((v) => v !== 0),
          n,
        ).toBe(true);
      }
    }
  });

  it('computes the same loss and gradients on the cpu backend', async () => {
    await selectBackend('cpu');
    try {
      const cpu = lossesAndGrads();
      for (const [key, v] of Object.entries(wasm.terms)) expect(cpu.terms[key], key).toBeCloseTo(v, 3);
      for (const [name, g] of wasm.grads) {
        const c = cpu.grads.get(name)!;
        let err = 0;
        let scale = 0;
        g.forEach((v, i) => {
          err = Math.max(err, Math.abs(v - c[i]!));
          scale = Math.max(scale, Math.abs(c[i]!));
        });
        expect(err / scale, name).toBeLessThan(1e-3);
      }
    } finally {
      await selectBackend('wasm');
    }
  }, 60_000);
});
