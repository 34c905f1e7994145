import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../../common/random.js';
import { selectBackend } from '../../../../../trainer/backend/index.js';
import { featureSizes } from '../../../../../trainer/model/conv.js';
import { createDecoder } from '../../../../../trainer/model/decoders/index.js';
import { createEncoder } from '../../../../../trainer/model/encoders/index.js';
import { imageGrid } from '../../../../../trainer/model/encoders/image.js';
import { modelConfig, ParamStore, type ModalitySpec } from '../../../../../trainer/model/index.js';

const image = (name: string, shape: [number, number, number]): ModalitySpec => ({
  name,
  kind: 'image',
  dims: shape[0] * shape[1] * shape[2],
  shape,
  latents: 3,
  exogenous: 2,
});
const series = (name: string, shape: [number, number]): ModalitySpec => ({
  name,
  kind: 'timeseries',
  dims: shape[0] * shape[1],
  shape,
  latents: 2,
  exogenous: 1,
});

const SPECS: { spec: ModalitySpec; smallest: [number, number] }[] = [
  { spec: image('mnist', [28, 28, 1]), smallest: [7, 7] },
  { spec: image('rgb', [32, 32, 3]), smallest: [8, 8] },
  { spec: image('odd', [33, 30, 2]), smallest: [9, 8] },
  { spec: series('ecg', [64, 3]), smallest: [1, 16] },
  { spec: series('short', [50, 2]), smallest: [1, 13] },
];

function paramShapes(params: ParamStore): Record<string, number[]> {
  return Object.fromEntries(params.list().map((p) => [p.name, p.variable.shape]));
}

describe('convolutional encoders and decoders', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  }, 60_000);

  for (const { spec, smallest } of SPECS) {
    it(`${spec.kind} ${JSON.stringify(spec.shape)}: code and reconstruction shapes, parameter layout`, () => {
      const B = 3;
      const code = spec.latents + spec.exogenous;
      const channels = (spec.shape ?? []).at(-1) as number;
      const isImage = spec.kind === 'image';
      const kernel = isImage ? [3, 3] : [1, 3];
      for (const stochastic of [true, false]) {
        const cfg = modelConfig([spec], { stochastic });
        const params = new ParamStore(new Rng(1));
        const enc = createEncoder(spec, cfg, params, `enc/${spec.name}`);
        const dec = createDecoder(spec, cfg, params, `dec/${spec.name}`);
        tf.tidy(() => {
          const x = tf.randomUniform([B, spec.dims], 0, 1, 'float32', 2) as tf.Tensor2D;
          const out = enc.apply(x);
          expect(out.mean.shape).toEqual([B, code]);
          if (stochastic) expect(out.logvar?.shape).toEqual([B, code]);
          else expect(out.logvar).toBeUndefined();
          const xhat = dec.apply(out.mean);
          expect(xhat.shape).toEqual([B, spec.dims]);
          expect(Array.from(xhat.dataSync()).every(Number.isFinite)).toBe(true);
        });
        const flat = smallest[0] * smallest[1] * 32;
        expect(paramShapes(params)).toEqual({
          [`enc/${spec.name}/conv0/kernel`]: [...kernel, channels, 16],
          [`enc/${spec.name}/conv0/bias`]: [16],
          [`enc/${spec.name}/conv1/kernel`]: [...kernel, 16, 32],
          [`enc/${spec.name}/conv1/bias`]: [32],
          [`enc/${spec.name}/dense0/kernel`]: [flat, 64],
          [`enc/${spec.name}/dense0/bias`]: [64],
          [`enc/${spec.name}/dense1/kernel`]: [64, stochastic ? 2 * code : code],
          [`enc/${spec.name}/dense1/bias`]: [stochastic ? 2 * code : code],
          [`dec/${spec.name}/dense0/kernel`]: [code, 64],
          [`dec/${spec.name}/dense0/bias`]: [64],
          [`dec/${spec.name}/dense1/kernel`]: [64, flat],
          [`dec/${spec.name}/dense1/bias`]: [flat],
          // Transposed-conv kernels are (kh, kw, out channels, in channels).
          [`dec/${spec.name}/deconv0/kernel`]: [...kernel, 16, 32],
          [`dec/${spec.name}/deconv0/bias`]: [16],
          [`dec/${spec.name}/deconv1/kernel`]: [...kernel, channels, 16],
          [`dec/${spec.name}/deconv1/bias`]: [channels],
        });
        params.dispose();
      }
    });
  }

  it('feature sizes round up per stride-2 layer and the decoder retraces them', () => {
    const spec = image('odd', [33, 30, 2]);
    const grid = imageGrid(spec, modelConfig([spec], { convChannels: [4, 4, 4] }));
    expect(featureSizes(grid, 3)).toEqual([
      [33, 30],
      [17, 15],
      [9, 8],
      [5, 4],
    ]);
    const cfg = modelConfig([spec], { convChannels: [4, 4, 4], convKernel: 5, hidden: 8 });
    const params = new ParamStore(new Rng(3));
    const dec = createDecoder(spec, cfg, params, 'dec');
    const shape = tf.tidy(() => dec.apply(tf.zeros([2, 5]) as tf.Tensor2D).shape);
    expect(shape).toEqual([2, 33 * 30 * 2]);
    params.dispose();
  });

  /**
   * One pixel through a single stride-2 layer whose kernel is the identity at its centre tap: with a
   * 6x4 image ('same' pads nothing before), map position (i, j) and image pixel (2i + 1, 2j + 1)
   * correspond. Non-square, so a swap of height and width in the flattened order shows.
   */
  describe('flattened row order', () => {
    const spec = image('order', [6, 4, 1]);
    const cfg = modelConfig([spec], { stochastic: false, convChannels: [2], hidden: 3 });
    const mapIndex = (2 * 2 + 0) * 2; // map (2, 0), channel 0 of 2, in the (3, 2, 2) map
    const pixelIndex = 5 * 4 + 1; // image (5, 1)

    function zeroed(build: (params: ParamStore) => void): ParamStore {
      const params = new ParamStore(new Rng(6));
      build(params);
      for (const p of params.list()) p.variable.assign(tf.zerosLike(p.variable));
      return params;
    }
    const centreTap = (shape: number[]): tf.Tensor => {
      const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
      v[((1 * 3 + 1) * shape[2]! + 0) * shape[3]! + 0] = 1; // tap (1, 1), channel 0 -> channel 0
      return tf.tensor(v, shape);
    };

    it('decoder: a map unit lands on its image pixel', () => {
      let dec: ReturnType<typeof createDecoder> | undefined;
      const params = zeroed((p) => (dec = createDecoder(spec, cfg, p, 'dec')));
      const bias = new Float32Array(3 * 2 * 2);
      bias[mapIndex] = 1;
      params.get('dec/dense1/bias').assign(tf.tensor1d(bias));
      params.get('dec/deconv0/kernel').assign(centreTap([3, 3, 1, 2]));
      const out = tf.tidy(() => Array.from(dec!.apply(tf.zeros([1, 5]) as tf.Tensor2D).dataSync()));
      expect(out.map((v, i) => (v !== 0 ? i : -1)).filter((i) => i >= 0)).toEqual([pixelIndex]);
      expect(out[pixelIndex]).toBeCloseTo(1, 6);
      params.dispose();
    });

    it('encoder: an image pixel reaches its map unit', () => {
      let enc: ReturnType<typeof createEncoder> | undefined;
      const params = zeroed((p) => (enc = createEncoder(spec, cfg, p, 'enc')));
      params.get('enc/conv0/kernel').assign(centreTap([3, 3, 1, 2]));
      const select = new Float32Array(3 * 2 * 2 * 3);
      select[mapIndex * 3 + 0] = 1; // dense0 kernel (12, 3): map unit -> hidden 0
      params.get('enc/dense0/kernel').assign(tf.tensor2d(select, [12, 3]));
      const pick = new Float32Array(3 * 5);
      pick[0] = 1; // dense1 kernel (3, 5): hidden 0 -> code 0
      params.get('enc/dense1/kernel').assign(tf.tensor2d(pick, [3, 5]));
      const reached = Array.from({ length: 24 }, (_, pixel) =>
        tf.tidy(() => {
          const x = new Float32Array(24);
          x[pixel] = 1;
          return enc!.apply(tf.tensor2d(x, [1, 24])).mean.dataSync()[0]!;
        }),
      );
      expect(reached.map((v, i) => (v !== 0 ? i : -1)).filter((i) => i >= 0)).toEqual([pixelIndex]);
      expect(reached[pixelIndex]).toBeCloseTo(1, 6);
      params.dispose();
    });
  });

  it('decoder output is flattened channels last: a per-channel output bias lands on every C-th value', () => {
    const spec = image('odd', [5, 3, 2]);
    const cfg = modelConfig([spec], { stochastic: false, convChannels: [4] });
    const params = new ParamStore(new Rng(4));
    const dec = createDecoder(spec, cfg, params, 'dec');
    for (const p of params.list()) p.variable.assign(tf.zerosLike(p.variable));
    params.get('dec/deconv0/bias').assign(tf.tensor1d([1, -2]));
    const out = tf.tidy(() => Array.from(dec.apply(tf.ones([1, 5]) as tf.Tensor2D).dataSync()));
    expect(out).toEqual(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 1 : -2)));
    params.dispose();
  });

  it('leaks no tensors across a forward and backward pass', () => {
    const spec = image('odd', [9, 7, 2]);
    const cfg = modelConfig([spec]);
    const params = new ParamStore(new Rng(5));
    const enc = createEncoder(spec, cfg, params, 'enc');
    const dec = createDecoder(spec, cfg, params, 'dec');
    const x = tf.randomUniform([4, spec.dims]) as tf.Tensor2D;
    const step = (): void => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(dec.apply(enc.apply(x).mean), x))) as tf.Scalar,
      );
      value.dispose();
      tf.dispose(grads);
    };
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    params.dispose();
  });
});
