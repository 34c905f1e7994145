/**
 * Convolution layers of the image and time-series encoders and decoders, on one code path: a row is
 * viewed as a 2-D feature map (`ConvGrid`; a time series is a map of height 1), every layer is a
 * stride-s 'same' conv2d or its transpose, and both carry a custom gradient.
 *
 * Why a custom gradient: the wasm backend has no `Conv2DBackpropFilter` kernel, which tfjs's own
 * gradients of conv2d and conv2dTranspose need for the weights. The weight gradient of a stride-s
 * conv is itself a convolution, which every backend has (see `filterGradient`). The custom path runs
 * on every backend, so every backend computes the same numbers; `setConvGradient('native')` selects
 * tfjs's gradients instead, for comparisons on backends that have them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamStore } from './params.js';

/** [height, width] of kernels, strides and feature maps. */
export type Size2 = [number, number];
type Shape4 = [number, number, number, number];

/** A row of a modality viewed as a feature map (channels last), and the conv layers over it. */
export interface ConvGrid {
  height: number;
  width: number;
  channels: number;
  kernel: Size2;
  strides: Size2;
}

/**
 * Spatial sizes of the feature maps of a stack of `layers` stride-s 'same' convs, the input first:
 * ceil(n / s) per layer, which the transposed convs of a decoder retrace exactly (an odd 33 goes
 * 33 -> 17 -> 9 and back), so no size needs cropping.
 */
export function featureSizes(grid: ConvGrid, layers: number): Size2[] {
  const sizes: Size2[] = [[grid.height, grid.width]];
  for (let l = 0; l < layers; l++) {
    const [h, w] = sizes[l] as Size2;
    sizes.push([Math.ceil(h / grid.strides[0]), Math.ceil(w / grid.strides[1])]);
  }
  return sizes;
}

export type ConvGradient = 'custom' | 'native';
let gradientMode: ConvGradient = 'custom';

/**
 * Selects how `conv2d` and `conv2dTranspose` run from the next call on: `custom` (the default, any
 * backend) or plain tfjs ops with tfjs's own gradients (`native`: needs `Conv2DBackpropFilter`, which
 * the cpu backend has and wasm lacks). For benchmarks and tests that compare the two.
 */
export function setConvGradient(mode: ConvGradient): void {
  gradientMode = mode;
}

/**
 * Kernel taps times input channels (kh kw Ci) up to which `filterGradient` takes the patch route:
 * measured on wasm at batch 256, it is 5x faster for a 3x3 kernel over 1 channel, even at 2-4
 * channels, and slower from about 27 (its identity conv grows with the square of this number).
 */
const PATCH_ROUTE_MAX_TAPS = 20;

/**
 * The weight gradient of `y = conv2d(x, filter, strides, 'same')` for the output gradient `dy`:
 *
 *   dF[p, q, c, o] = sum over b, i, j of xpad[b, s_h i + p, s_w j + q, c] * dy[b, i, j, o].
 *
 * Two routes to the same sum, both on kernels every backend has; which is faster depends on kh kw Ci
 * (`PATCH_ROUTE_MAX_TAPS`): `dilatedFilterGradient` or `patchFilterGradient`.
 */
export function filterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  strides: Size2,
): tf.Tensor4D {
  const [kh, kw, inC] = filterShape;
  return kh * kw * inC <= PATCH_ROUTE_MAX_TAPS
    ? patchFilterGradient(x, dy, filterShape, strides)
    : dilatedFilterGradient(x, dy, filterShape, strides);
}

/**
 * The sum as a 'valid' stride-1 convolution of xpad with channels c as its batch and b as its input
 * channels, by dy as a (Ho, Wo, B, Co) filter dilated by the strides. xpad is x padded exactly as
 * the forward conv pads it (TensorFlow's 'same' rule: the odd pixel at the bottom and right) and cut
 * to the rows and columns the forward conv reads, so the valid conv yields exactly kh x kw positions.
 * Its conv has only Ci kh kw output positions, which keeps it slow for few input channels.
 */
export function dilatedFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  strides: Size2,
): tf.Tensor4D {
  const [kh, kw] = filterShape;
  const [, height, width] = x.shape;
  const [, outHeight, outWidth] = dy.shape;
  const { padInfo } = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, 'same');
  const needHeight = (outHeight - 1) * strides[0] + kh;
  const needWidth = (outWidth - 1) * strides[1] + kw;
  const bottom = needHeight - height - padInfo.top;
  const right = needWidth - width - padInfo.left;
  let xp = x;
  if (padInfo.top > 0 || padInfo.left > 0 || bottom > 0 || right > 0) {
    xp = tf.pad(xp, [
      [0, 0],
      [padInfo.top, Math.max(bottom, 0)],
      [padInfo.left, Math.max(right, 0)],
      [0, 0],
    ]);
  }
  // With 'same' padding a kernel smaller than the stride leaves trailing input rows unread.
  if (bottom < 0 || right < 0) xp = tf.slice(xp, [0, 0, 0, 0], [-1, needHeight, needWidth, -1]);
  const g = tf.conv2d(
    tf.transpose(xp, [3, 1, 2, 0]),
    tf.transpose(dy, [1, 2, 0, 3]),
    1,
    'valid',
    'NHWC',
    strides,
  );
  return tf.transpose(g, [1, 2, 0, 3]);
}

/**
 * The sum as a matmul of the forward conv's input patches, (B Ho Wo, kh kw Ci), by dy, (B Ho Wo, Co).
 * The patches come from the forward conv itself with an identity filter, so they carry its padding
 * and strides exactly; that conv costs kh kw Ci times the patches' size, cheap only for few taps.
 */
export function patchFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  strides: Size2,
): tf.Tensor4D {
  const [kh, kw, inC, outC] = filterShape;
  const taps = kh * kw * inC;
  const identity = tf.reshape(tf.eye(taps), [kh, kw, inC, taps]) as tf.Tensor4D;
  const patches = tf.reshape(tf.conv2d(x, identity, strides, 'same'), [-1, taps]);
  // An explicit transpose: wasm's matmul with a transpose flag is several times slower.
  return tf.reshape(tf.matMul(tf.transpose(patches), tf.reshape(dy, [-1, outC])), filterShape);
}

/**
 * The input gradient of `y = conv2d(x, filter, strides, 'same')` for the output gradient `dy`, which
 * is also the transposed conv of `dy` by `filter` to `inShape`. Per axis, with P the forward conv's
 * leading 'same' pad, write u + P = s m + r (phase r < s): then
 *
 *   dx[u] = sum over j < J of dy[m - j] * filter[s j + r],   J = ceil(k / s),
 *
 * so each phase r is a stride-1 conv of dy by a J-tap slice of the flipped filter. One conv2d with
 * all s_h s_w phases as output channels computes them (sub-pixel convolution), a depth-to-space
 * (reshape, transpose) interleaves them, and a slice drops the P leading positions. It does about
 * (J s / k)^2 times the work of the direct kernel (16/9 for k = 3, s = 2, against 4x for a conv
 * over zero-upsampled dy), and runs on conv2d, which on wasm is about 15x faster than its scalar
 * `Conv2DBackpropInput`.
 */
export function convInputGradient(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inShape: Shape4,
  strides: Size2,
): tf.Tensor4D {
  const [kh, kw, inC] = filter.shape;
  const [rows, height, width] = inShape;
  const [, outHeight, outWidth] = dy.shape;
  const [sh, sw] = strides;
  const { padInfo } = tf.backend_util.computeConv2DInfo(inShape, filter.shape, strides, 1, 'same');
  const jh = Math.ceil(kh / sh);
  const jw = Math.ceil(kw / sw);
  const blocksH = Math.ceil((height + padInfo.top) / sh);
  const blocksW = Math.ceil((width + padInfo.left) / sw);
  const phases = phaseFilter(filter, strides);
  let z = tf.conv2d(dy, phases, 1, [
    [0, 0],
    [jh - 1, blocksH - outHeight],
    [jw - 1, blocksW - outWidth],
    [0, 0],
  ]);
  if (sh > 1 || sw > 1) {
    // Depth-to-space as reshape and transpose: wasm's DepthToSpace kernel is about 10x slower.
    const split = tf.reshape(z, [rows, blocksH, blocksW, sh, sw, inC]);
    // With sh = 1 the phase axis already sits where the transpose would move it.
    const ordered = sh === 1 ? split : tf.transpose(split, [0, 1, 3, 2, 4, 5]);
    z = tf.reshape(ordered, [rows, blocksH * sh, blocksW * sw, inC]);
  }
  if (padInfo.top === 0 && padInfo.left === 0 && z.shape[1] === height && z.shape[2] === width) return z;
  return tf.slice(z, [0, padInfo.top, padInfo.left, 0], [-1, height, width, -1]);
}

/**
 * The filter of `convInputGradient`'s conv: (J_h, J_w, outC, s_h s_w inC), tap t of phase (r_h, r_w)
 * = filter[s (J - 1 - t) + r] per axis, zero past the kernel, phases major over input channels (the
 * order depth-to-space reads).
 */
function phaseFilter(filter: tf.Tensor4D, strides: Size2): tf.Tensor4D {
  const [kh, kw, inC, outC] = filter.shape;
  const [sh, sw] = strides;
  const jh = Math.ceil(kh / sh);
  const jw = Math.ceil(kw / sw);
  if (sh === 1 && sw === 1) return tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  const padded = tf.pad(filter, [
    [0, jh * sh - kh],
    [0, jw * sw - kw],
    [0, 0],
    [0, 0],
  ]);
  const taps = tf.reverse(tf.reshape(padded, [jh, sh, jw, sw, inC, outC]), [0, 2]);
  return tf.reshape(tf.transpose(taps, [0, 2, 5, 1, 3, 4]), [jh, jw, outC, sh * sw * inC]);
}

/** `tf.conv2d(x, filter, strides, 'same')` with the custom gradient. */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, strides: Size2): tf.Tensor4D {
  if (gradientMode === 'native') return tf.conv2d(x, filter, strides, 'same');
  const op = tf.customGrad((xIn, fIn, save) => {
    const [xs, fs] = [xIn as tf.Tensor4D, fIn as tf.Tensor4D];
    (save as tf.GradSaveFunc)([xs, fs]);
    return {
      value: tf.conv2d(xs, fs, strides, 'same'),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xv, fv] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [convInputGradient(dy, fv, xv.shape, strides), filterGradient(xv, dy, fv.shape, strides)];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}

/**
 * `tf.conv2dTranspose(x, filter, outShape, strides, 'same')` (filter (kh, kw, outC, inC)) with the
 * custom gradient. It is the input gradient of a conv2d from `outShape` to x's shape, so its value is
 * `convInputGradient` (no scalar kernel on wasm) and its gradients are that conv2d (for x) and that
 * conv2d's weight gradient with the roles of input and output gradient exchanged (for the filter).
 */
export function conv2dTranspose(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  outShape: Shape4,
  strides: Size2,
): tf.Tensor4D {
  if (gradientMode === 'native') return tf.conv2dTranspose(x, filter, outShape, strides, 'same');
  const op = tf.customGrad((xIn, fIn, save) => {
    const [xs, fs] = [xIn as tf.Tensor4D, fIn as tf.Tensor4D];
    (save as tf.GradSaveFunc)([xs, fs]);
    return {
      value: convInputGradient(xs, fs, outShape, strides),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xv, fv] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [tf.conv2d(dy, fv, strides, 'same'), filterGradient(dy, xv, fv.shape, strides)];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}

function convParams(
  params: ParamStore,
  prefix: string,
  filterShape: Shape4,
  inC: number,
  outC: number,
): { kernel: tf.Variable; bias: tf.Variable } {
  const area = filterShape[0] * filterShape[1];
  return {
    kernel: params.add(`${prefix}/kernel`, filterShape, {
      kind: 'glorot',
      fanIn: area * inC,
      fanOut: area * outC,
    }),
    bias: params.add(`${prefix}/bias`, [outC], { kind: 'constant', value: 0 }),
  };
}

/** A stride-s 'same' conv2d with bias: `${prefix}/kernel` (kh, kw, inC, outC), `${prefix}/bias`. */
export class ConvLayer {
  private readonly kernel: tf.Variable;
  private readonly bias: tf.Variable;

  constructor(
    params: ParamStore,
    prefix: string,
    inC: number,
    outC: number,
    private readonly grid: Pick<ConvGrid, 'kernel' | 'strides'>,
  ) {
    ({ kernel: this.kernel, bias: this.bias } = convParams(
      params,
      prefix,
      [...grid.kernel, inC, outC],
      inC,
      outC,
    ));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const y = conv2d(x, this.kernel as tf.Tensor4D, this.grid.strides);
    return tf.add(y, this.bias);
  }
}

/**
 * A stride-s 'same' transposed conv with bias, to a given map size: `${prefix}/kernel`
 * (kh, kw, outC, inC), `${prefix}/bias`.
 */
export class TransposedConvLayer {
  private readonly kernel: tf.Variable;
  private readonly bias: tf.Variable;

  constructor(
    params: ParamStore,
    prefix: string,
    inC: number,
    private readonly outC: number,
    private readonly outSize: Size2,
    private readonly grid: Pick<ConvGrid, 'kernel' | 'strides'>,
  ) {
    ({ kernel: this.kernel, bias: this.bias } = convParams(
      params,
      prefix,
      [...grid.kernel, outC, inC],
      inC,
      outC,
    ));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const outShape: Shape4 = [x.shape[0], ...this.outSize, this.outC];
    const y = conv2dTranspose(x, this.kernel as tf.Tensor4D, outShape, this.grid.strides);
    return tf.add(y, this.bias);
  }
}
