import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../../common/random.js';
import { selectBackend } from '../../../../../trainer/backend/index.js';
import {
  conv2d,
  conv2dTranspose,
  dilatedFilterGradient,
  patchFilterGradient,
  setConvGradient,
} from '../../../../../trainer/model/conv.js';

type Size2 = [number, number];
type Shape4 = [number, number, number, number];

interface Case {
  name: string;
  /** conv2d input (B, H, W, Ci); the transposed conv maps the conv's output shape back to it. */
  x: Shape4;
  kernel: Size2;
  outC: number;
  strides: Size2;
}

const CASES: Case[] = [
  { name: '7x7, 1->4, k3, stride 1', x: [2, 7, 7, 1], kernel: [3, 3], outC: 4, strides: [1, 1] },
  { name: '8x8 even, 3->5, k3, stride 2', x: [3, 8, 8, 3], kernel: [3, 3], outC: 5, strides: [2, 2] },
  { name: '9x7 odd, 2->3, k3, stride 2', x: [2, 9, 7, 2], kernel: [3, 3], outC: 3, strides: [2, 2] },
  { name: '28x28, 1->16, k3, stride 2', x: [2, 28, 28, 1], kernel: [3, 3], outC: 16, strides: [2, 2] },
  { name: '6x6, 8->4, k3, stride 1', x: [2, 6, 6, 8], kernel: [3, 3], outC: 4, strides: [1, 1] },
  { name: '9x9 odd, 4->6, k3, stride 2', x: [2, 9, 9, 4], kernel: [3, 3], outC: 6, strides: [2, 2] },
  { name: '13x11 odd, 16->8, k5, stride 2', x: [2, 13, 11, 16], kernel: [5, 5], outC: 8, strides: [2, 2] },
  { name: '6x5, 2->3, even k2, stride 2', x: [2, 6, 5, 2], kernel: [2, 2], outC: 3, strides: [2, 2] },
  { name: '5x6, 4->2, k1 < stride 2', x: [2, 5, 6, 4], kernel: [1, 1], outC: 2, strides: [2, 2] },
  { name: '10x9, 2->3, k3, strides (3, 2)', x: [2, 10, 9, 2], kernel: [3, 3], outC: 3, strides: [3, 2] },
  {
    name: 'series 1x33, 3->4, k(1,5), stride (1,2)',
    x: [2, 1, 33, 3],
    kernel: [1, 5],
    outC: 4,
    strides: [1, 2],
  },
  {
    name: 'series 1x50, 2->16, k(1,3), stride (1,2)',
    x: [3, 1, 50, 2],
    kernel: [1, 3],
    outC: 16,
    strides: [1, 2],
  },
];

function outShapeOf(c: Case): Shape4 {
  const [b, h, w] = c.x;
  return [b, Math.ceil(h / c.strides[0]), Math.ceil(w / c.strides[1]), c.outC];
}

function normals(n: number, seed: string): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Forward values and gradients of both ops, as plain arrays so backends can be compared. */
interface Results {
  conv: Float32Array[]; // value, dx, dFilter
  transpose: Float32Array[]; // value, dx, dFilter
  /** Filter gradients of conv and transpose by each route, whichever `filterGradient` picks. */
  routes: { conv: Float32Array[]; transpose: Float32Array[] }; // dilated, patch
}

/**
 * Loss = sum(w * op(x, f)) with a fixed random w, so the gradient reaching the op is w: every
 * element of the input and filter gradients is checked, not only their sums.
 */
function compute(c: Case): Results {
  return tf.tidy(() => {
    const y = outShapeOf(c);
    const x = tf.tensor4d(normals(size(c.x), `x-${c.name}`), c.x);
    const f = tf.tensor4d(normals(size(c.kernel) * c.x[3] * c.outC, `f-${c.name}`), [
      ...c.kernel,
      c.x[3],
      c.outC,
    ]);
    const wy = tf.tensor4d(normals(size(y), `wy-${c.name}`), y);
    const yIn = tf.tensor4d(normals(size(y), `y-${c.name}`), y);
    const wx = tf.tensor4d(normals(size(c.x), `wx-${c.name}`), c.x);
    const convLoss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides), wy));
    const transposeLoss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.x, c.strides), wx));
    const read = (ts: tf.Tensor[]): Float32Array[] => ts.map((t) => t.dataSync() as Float32Array);
    return {
      conv: read([conv2d(x, f, c.strides), ...tf.grads(convLoss)([x, f])]),
      transpose: read([conv2dTranspose(yIn, f, c.x, c.strides), ...tf.grads(transposeLoss)([yIn, f])]),
      // The transposed conv's filter gradient is a conv's, with input and output gradient swapped.
      routes: {
        conv: read([
          dilatedFilterGradient(x, wy, f.shape, c.strides),
          patchFilterGradient(x, wy, f.shape, c.strides),
        ]),
        transpose: read([
          dilatedFilterGradient(wx, yIn, f.shape, c.strides),
          patchFilterGradient(wx, yIn, f.shape, c.strides),
        ]),
      },
    };
  });
}

/** max |a - b| / max |b|: a relative error that a single wrong element cannot hide in. */
function relError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}

describe('custom conv gradients', () => {
  const native: Results[] = [];
  const customCpu: Results[] = [];
  const customWasm: Results[] = [];

  beforeAll(async () => {
    await selectBackend('cpu');
    setConvGradient('native');
    for (const c of CASES) native.push(compute(c));
    setConvGradient('custom');
    for (const c of CASES) customCpu.push(compute(c));
    await selectBackend('wasm');
    for (const c of CASES) customWasm.push(compute(c));
  }, 120_000);

  afterAll(() => setConvGradient('custom'));

  const parts = ['value', 'input gradient', 'filter gradient'];
  CASES.forEach((c, i) => {
    it(`conv2d and its transpose match tfjs's native gradients on cpu: ${c.name}`, () => {
      for (const [label, got] of [
        ['cpu', customCpu[i]!],
        ['wasm', customWasm[i]!],
      ] as const) {
        for (const op of ['conv', 'transpose'] as const) {
          got[op].forEach((arr, k) => {
            const err = relError(arr, native[i]![op][k]!);
            expect(err, `${label} ${op} ${parts[k]}`).toBeLessThan(1e-4);
          });
          got.routes[op].forEach((arr, k) => {
            const err = relError(arr, native[i]![op][2]!);
            expect(
              err,
              `${label} ${op} filter gradient, ${k === 0 ? 'dilated' : 'patch'} route`,
            ).toBeLessThan(1e-4);
          });
        }
      }
    });
  });

  it('is needed: the wasm backend cannot run the native filter gradient', () => {
    expect(tf.getBackend()).toBe('wasm');
    setConvGradient('native');
    try {
      const c = CASES[1]!;
      expect(() => compute(c)).toThrow(/Conv2DBackpropFilter/);
    } finally {
      setConvGradient('custom');
    }
  });
});

describe('custom conv gradients against finite differences', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  }, 60_000);

  /**
   * The loss 0.5 sum(w * y^2) is quadratic in each of x and f, so a central difference is exact up to
   * rounding whatever the step: a large step keeps float32 rounding small.
   */
  function check(op: 'conv' | 'transpose'): void {
    const strides: Size2 = [2, 2];
    const big: Shape4 = [2, 5, 4, 2];
    const small: Shape4 = [2, 3, 2, 3];
    const inShape = op === 'conv' ? big : small;
    const outShape = op === 'conv' ? small : big;
    const fShape: Shape4 = [3, 3, 2, 3];
    const xv = normals(size(inShape), `fd-x-${op}`);
    const fv = normals(size(fShape), `fd-f-${op}`);
    const wv = normals(size(outShape), `fd-w-${op}`);
    const apply = (x: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor4D =>
      op === 'conv' ? conv2d(x, f, strides) : conv2dTranspose(x, f, big, strides);
    const loss = (x: tf.Tensor, f: tf.Tensor): tf.Scalar =>
      tf.mul(
        tf.sum(tf.mul(tf.square(apply(x as tf.Tensor4D, f as tf.Tensor4D)), tf.tensor4d(wv, outShape))),
        0.5,
      );
    const [gx, gf] = tf.tidy(() =>
      tf
        .grads(loss)([tf.tensor4d(xv, inShape), tf.tensor4d(fv, fShape)])
        .map((g) => g.dataSync() as Float32Array),
    ) as [Float32Array, Float32Array];
    const at = (x: Float32Array, f: Float32Array): number =>
      tf.tidy(() => loss(tf.tensor4d(x, inShape), tf.tensor4d(f, fShape)).dataSync()[0]!);
    const h = 0.25;
    const numeric = (which: 'x' | 'f'): Float32Array => {
      const base = which === 'x' ? xv : fv;
      return Float32Array.from(base, (_, i) => {
        const up = Float32Array.from(base);
        const down = Float32Array.from(base);
        up[i]! += h;
        down[i]! -= h;
        const [lu, ld] = which === 'x' ? [at(up, fv), at(down, fv)] : [at(xv, up), at(xv, down)];
        return (lu - ld) / (2 * h);
      });
    };
    expect(relError(gx, numeric('x'))).toBeLessThan(1e-4);
    expect(relError(gf, numeric('f'))).toBeLessThan(1e-4);
  }

  it('conv2d, stride 2, odd sizes', () => check('conv'));
  it('conv2dTranspose, stride 2, odd sizes', () => check('transpose'));
});
