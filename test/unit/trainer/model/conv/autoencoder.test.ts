import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../../common/random.js';
import { selectBackend } from '../../../../../trainer/backend/index.js';
import { createDecoder } from '../../../../../trainer/model/decoders/index.js';
import { createEncoder } from '../../../../../trainer/model/encoders/index.js';
import { modelConfig, ParamStore, type ModalitySpec } from '../../../../../trainer/model/index.js';

/**
 * Images with two factors on an odd, non-square, two-channel grid: channel 0 a Gaussian blob whose
 * row and column are the factors, channel 1 a horizontal bar at the blob's row, fading along the
 * width. (The flattened order itself is pinned down in shapes.test.ts: a network this size learns
 * 16 images well even through a scrambled output order.)
 */
function blobImages(n: number, [H, W]: [number, number]): Float32Array {
  const out = new Float32Array(n * H * W * 2);
  for (let s = 0; s < n; s++) {
    const cy = 2 + (s % 4) * ((H - 5) / 3);
    const cx = 2 + Math.floor(s / 4) * ((W - 5) / Math.max(1, Math.ceil(n / 4) - 1));
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const base = ((s * H + i) * W + j) * 2;
        out[base] = Math.exp(-((i - cy) ** 2 + (j - cx) ** 2) / 4);
        out[base + 1] = Math.abs(i - Math.round(cy)) <= 1 ? 1 - j / W : 0;
      }
    }
  }
  return out;
}

/** Two-channel series: a sine of varying phase and frequency, and a ramp starting at a varying time. */
function waveSeries(n: number, T: number): Float32Array {
  const out = new Float32Array(n * T * 2);
  for (let s = 0; s < n; s++) {
    const phase = (s % 4) * 0.8;
    const freq = 0.15 + 0.05 * Math.floor(s / 4);
    const start = 5 + 4 * (s % 5);
    for (let t = 0; t < T; t++) {
      out[(s * T + t) * 2] = Math.sin(freq * t + phase);
      out[(s * T + t) * 2 + 1] = t >= start ? (t - start) / T : 0;
    }
  }
  return out;
}

/**
 * Trains a deterministic conv autoencoder with Adam on the whole set; returns the MSE before and
 * after, and the MSE of the best constant reconstruction (the per-value mean over the set), which
 * the decoder's biases alone could reach: beating it by a factor means rows are told apart.
 */
function train(
  spec: ModalitySpec,
  values: Float32Array,
  steps: number,
): { before: number; after: number; meanOnly: number } {
  const cfg = modelConfig([spec], { stochastic: false, convChannels: [8, 16], hidden: 32 });
  const params = new ParamStore(new Rng(`ae-${spec.name}`));
  const enc = createEncoder(spec, cfg, params, `enc/${spec.name}`);
  const dec = createDecoder(spec, cfg, params, `dec/${spec.name}`);
  const x = tf.tensor2d(values, [values.length / spec.dims, spec.dims]);
  const mse = (): tf.Scalar => tf.mean(tf.square(tf.sub(dec.apply(enc.apply(x).mean), x)));
  const read = (): number => tf.tidy(() => mse().dataSync()[0]!);
  const meanOnly = tf.tidy(() => tf.mean(tf.square(tf.sub(x, tf.mean(x, 0, true)))).dataSync()[0]!);
  const before = read();
  const opt = tf.train.adam(3e-3);
  const vars = params.list().map((p) => p.variable);
  for (let s = 0; s < steps; s++) opt.minimize(mse, false, vars);
  const after = read();
  opt.dispose();
  x.dispose();
  params.dispose();
  return { before, after, meanOnly };
}

describe('convolutional autoencoders learn', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  }, 60_000);

  it('images (15x12x2): reconstruction error falls far below the constant reconstruction', () => {
    const [H, W] = [15, 12];
    const spec: ModalitySpec = {
      name: 'img',
      kind: 'image',
      dims: H * W * 2,
      shape: [H, W, 2],
      latents: 3,
      exogenous: 1,
    };
    const r = train(spec, blobImages(16, [H, W]), 300);
    expect(r.after).toBeLessThan(r.before / 30);
    expect(r.after).toBeLessThan(r.meanOnly / 30);
  }, 60_000);

  it('time series ([48, 2]): reconstruction error falls far below the constant reconstruction', () => {
    const T = 48;
    const spec: ModalitySpec = {
      name: 'ts',
      kind: 'timeseries',
      dims: T * 2,
      shape: [T, 2],
      latents: 3,
      exogenous: 1,
    };
    const r = train(spec, waveSeries(20, T), 300);
    expect(r.after).toBeLessThan(r.before / 30);
    expect(r.after).toBeLessThan(r.meanOnly / 30);
  }, 60_000);
});
