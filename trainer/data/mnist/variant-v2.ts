/**
 * Variant MNIST, camera-ready design (`mnist-v2`): every latent is a continuous, visible property
 * of where and how an item is drawn, so MCC against the truth is meaningful.
 *
 *   digit modality (coloured MNIST, 28x28x3)       fashion modality (Fashion-MNIST, 28x28x1)
 *     z1_1  horizontal position of the digit          z2_1  vertical position of the item
 *     z1_2  transparency of the digit                 z2_2  grayscale level of the item
 *
 *   z1_1 -> z1_2,  z1_1 -> z2_1 (inter-modal),  z2_1 -> z2_2
 *
 * Mechanisms (ε ~ N(0, 1) independent, σ the logistic function). Noise enters inside σ so every
 * latent stays in its range without clipping; each is monotone in its parent, so the dependence is
 * strong for any CI test, yet nonlinear (the paper's setting), and the noise gives each effect
 * variation of its own (an effect that were a function of its cause would not be a latent):
 *
 *   z1_1 ~ U(0, 1)                                        0 = leftmost, 1 = rightmost
 *   z1_2 = 0.1 + 0.7 σ(5 (z1_1 - 0.5) + 1.5 ε1)           transparency in (0.1, 0.8)
 *   z2_1 = σ(3 sin(π (z1_1 - 0.5)) + 2 ε2)                0 = top, 1 = bottom
 *   z2_2 = 0.25 + 0.75 σ(-4 (z2_1 - 0.5) + 1.5 ε3)        grayscale level in (0.25, 1)
 *
 * The noise scales give every effect about half its variance of its own (cause-effect correlation
 * about 0.7 on the logit scale). An earlier version used 0.5 throughout, which made the four
 * latents 0.89-0.96 correlated: nearly one factor drawn four ways, which no method could separate
 * (the model's first mnist-v2 run, seed 1, reached R² 0.91 but MCC 0.48 on it).
 *
 * Rendering. The paper is silent on geometry; chosen here: each 28x28 source image is shrunk to
 * 18x18 and placed on a black 28x28 canvas, which leaves 10 px of travel. The shrink and the
 * sub-pixel shift are one area-weighted (box-filter) resampling, so positions are continuous with
 * no pixel rounding of the latent. The resampled ink is normalised to peak 1, so the latent
 * intensities are exactly readable from the image: a digit's brightest channel is 255 (1 - z1_2),
 * a fashion item's brightest pixel is 255 z2_2 (up to uint8 rounding). Transparency is alpha
 * compositing over the black background, which shows as dimming of the digit's colour.
 *
 * Content, recorded as exogenous (truth/exogenous.csv): the digit's hue eta1_1 ~ U(0, 0.85) (HSV
 * with full saturation and value; the range stops short of the red wrap-around so hue is a linear
 * quantity), the digit class eta1_2 and the fashion class eta2_1 (whatever the drawn image shows;
 * images are drawn uniformly from their pools, so classes follow the sources' frequencies). The
 * digit's and item's shapes (handwriting, garment) are the rest of the exogenous content; the
 * source image indices are in truth/sources.csv.
 */
import type { Graph } from '../../../common/graph.js';
import { Rng } from '../../../common/random.js';
import { IMAGE_PIXELS, IMAGE_SIDE, SourceCycle, imageOf, type ImageSet } from './sources.js';
import type { MnistVariant } from './write.js';

/** Side of the shrunk content on the 28x28 canvas. */
export const V2_CONTENT_SIDE = 18;
/** Pixels a position latent of 0..1 moves the content. */
export const V2_TRAVEL = IMAGE_SIDE - V2_CONTENT_SIDE;
/** Largest hue drawn for a digit: below 1 so hues do not wrap around to red. */
export const V2_HUE_MAX = 0.85;

export const MNIST_V2: MnistVariant = {
  version: 'v2',
  fashionChannels: 1,
  latents: [
    ['z1_1', 'z1_2'],
    ['z2_1', 'z2_2'],
  ],
  exogenous: [['eta1_1', 'eta1_2'], ['eta2_1']],
  graph: latentGraph({
    z1_1: 'digit horizontal position',
    z1_2: 'digit transparency',
    z2_1: 'fashion vertical position',
    z2_2: 'fashion grayscale level',
  }),
  design: {
    latents: {
      z1_1: 'horizontal position of the digit, 0 (left) .. 1 (right): left edge at 10 z1_1 px',
      z1_2: 'transparency of the digit over black, 0.1 .. 0.8: brightest channel 255 (1 - z1_2)',
      z2_1: 'vertical position of the fashion item, 0 (top) .. 1 (bottom): top edge at 10 z2_1 px',
      z2_2: 'grayscale level of the fashion item, 0.25 .. 1: brightest pixel 255 z2_2',
    },
    mechanisms: {
      z1_1: 'U(0, 1)',
      z1_2: '0.1 + 0.7 sigmoid(5 (z1_1 - 0.5) + 1.5 e), e ~ N(0, 1)',
      z2_1: 'sigmoid(3 sin(pi (z1_1 - 0.5)) + 2 e), e ~ N(0, 1)',
      z2_2: '0.25 + 0.75 sigmoid(-4 (z2_1 - 0.5) + 1.5 e), e ~ N(0, 1)',
    },
    exogenous: {
      eta1_1: `digit hue (HSV, full saturation and value), U(0, ${V2_HUE_MAX})`,
      eta1_2: 'digit class 0..9',
      eta2_1: 'fashion class 0..9',
    },
    rendering: `sources shrunk to ${V2_CONTENT_SIDE}x${V2_CONTENT_SIDE} (area-weighted, sub-pixel placement) on a black 28x28 canvas, ink normalised to peak 1`,
    sampling: 'digits and fashion items drawn uniformly by successive seeded permutations of their pools',
  },
  rows(seed: number, digits: ImageSet, fashion: ImageSet) {
    // Separate streams: the latents of row r do not depend on which images were drawn, and vice versa.
    const root = new Rng(seed).fork('mnist-v2');
    const lat = root.fork('latents');
    const hues = root.fork('hue');
    const digitCycle = SourceCycle.over(digits.count, root.fork('digits'));
    const fashionCycle = SourceCycle.over(fashion.count, root.fork('fashion'));
    return (digitOut, fashionOut) => {
      const x = lat.uniform();
      const transparency = 0.1 + 0.7 * sigmoid(5 * (x - 0.5) + 1.5 * lat.normal());
      const y = sigmoid(3 * Math.sin(Math.PI * (x - 0.5)) + 2 * lat.normal());
      const gray = 0.25 + 0.75 * sigmoid(-4 * (y - 0.5) + 1.5 * lat.normal());
      const hue = V2_HUE_MAX * hues.uniform();
      const di = digitCycle.next();
      const fi = fashionCycle.next();
      renderDigitV2(imageOf(digits, di), x, transparency, hue, digitOut);
      renderFashionV2(imageOf(fashion, fi), y, gray, fashionOut);
      return {
        latents: [x, transparency, y, gray],
        exogenous: [hue, digits.labels[di] as number, fashion.labels[fi] as number],
        digitIndex: di,
        fashionIndex: fi,
      };
    };
  },
};

/** The designed DAG z1_1 -> z1_2, z1_1 -> z2_1, z2_1 -> z2_2 (both variants share its shape). */
export function latentGraph(labels: Record<'z1_1' | 'z1_2' | 'z2_1' | 'z2_2', string>): Graph {
  return {
    nodes: ['z1_1', 'z1_2', 'z2_1', 'z2_2'],
    edges: [
      [0, 1, '-->'],
      [0, 2, '-->'],
      [2, 3, '-->'],
    ],
    meta: { labels },
  };
}

export function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

const inkScratch = new Float64Array(IMAGE_PIXELS);

/** Coloured digit [28, 28, 3]: shrunk, at horizontal position x, alpha (1 - transparency) over black. */
export function renderDigitV2(
  src: Uint8Array,
  x: number,
  transparency: number,
  hue: number,
  out: Uint8Array,
): void {
  const ink = inkScratch;
  placeScaled(src, V2_CONTENT_SIDE, V2_TRAVEL * x, V2_TRAVEL / 2, ink);
  const peak = maxOf(ink);
  const alpha = peak > 0 ? (1 - transparency) / peak : 0;
  const [r, g, b] = hueToRgb(hue);
  for (let p = 0; p < IMAGE_PIXELS; p++) {
    const a = 255 * alpha * (ink[p] as number);
    out[3 * p] = Math.round(a * r);
    out[3 * p + 1] = Math.round(a * g);
    out[3 * p + 2] = Math.round(a * b);
  }
}

/** Grayscale item [28, 28, 1]: shrunk, at vertical position y, peak intensity `gray`. */
export function renderFashionV2(src: Uint8Array, y: number, gray: number, out: Uint8Array): void {
  const item = inkScratch;
  placeScaled(src, V2_CONTENT_SIDE, V2_TRAVEL / 2, V2_TRAVEL * y, item);
  const peak = maxOf(item);
  const level = peak > 0 ? (255 * gray) / peak : 0;
  for (let p = 0; p < IMAGE_PIXELS; p++) out[p] = Math.round(level * (item[p] as number));
}

/** HSV (h in [0, 1), full saturation and value) to RGB in [0, 1]. */
export function hueToRgb(h: number): [number, number, number] {
  const h6 = (((h % 1) + 1) % 1) * 6;
  const i = Math.floor(h6);
  const f = h6 - i;
  switch (i) {
    case 0:
      return [1, f, 0];
    case 1:
      return [1 - f, 1, 0];
    case 2:
      return [0, 1, f];
    case 3:
      return [0, 1 - f, 1];
    case 4:
      return [f, 0, 1];
    default:
      return [1, 0, 1 - f];
  }
}

function maxOf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if ((a[i] as number) > m) m = a[i] as number;
  return m;
}

/** Source pixels one canvas pixel can overlap: the preimage is 28/side < 2 px wide, so 3 at most. */
const MAX_TAPS = 3;
const wxFirst = new Int32Array(IMAGE_SIDE);
const wxCount = new Int32Array(IMAGE_SIDE);
const wxW = new Float64Array(IMAGE_SIDE * MAX_TAPS);
const wyFirst = new Int32Array(IMAGE_SIDE);
const wyCount = new Int32Array(IMAGE_SIDE);
const wyW = new Float64Array(IMAGE_SIDE * MAX_TAPS);
const rowsScratch = new Float64Array(IMAGE_PIXELS);

/**
 * Box-filter resampling of a 28x28 source (0..255) into the 28x28 canvas (0..1), scaled to
 * `side` px with its top-left corner at canvas coordinates (left, top), which may be fractional.
 * Each canvas pixel averages the source area it covers, so a fractional shift moves ink smoothly
 * and the shrink does not alias. Separable: columns first, then rows.
 */
export function placeScaled(
  src: Uint8Array,
  side: number,
  left: number,
  top: number,
  out: Float64Array,
): void {
  if (side < IMAGE_SIDE / 2 || side > IMAGE_SIDE) throw new RangeError(`content side ${side} outside 14..28`);
  axisWeights(side, left, wxFirst, wxCount, wxW);
  axisWeights(side, top, wyFirst, wyCount, wyW);
  const tmp = rowsScratch;
  for (let i = 0; i < IMAGE_SIDE; i++) {
    const row = i * IMAGE_SIDE;
    for (let c = 0; c < IMAGE_SIDE; c++) {
      let s = 0;
      const first = wxFirst[c] as number;
      for (let t = 0; t < (wxCount[c] as number); t++) {
        s += (src[row + first + t] as number) * (wxW[c * MAX_TAPS + t] as number);
      }
      tmp[row + c] = s / 255;
    }
  }
  for (let r = 0; r < IMAGE_SIDE; r++) {
    const first = wyFirst[r] as number;
    const count = wyCount[r] as number;
    for (let c = 0; c < IMAGE_SIDE; c++) {
      let s = 0;
      for (let t = 0; t < count; t++)
        s += (tmp[(first + t) * IMAGE_SIDE + c] as number) * (wyW[r * MAX_TAPS + t] as number);
      out[r * IMAGE_SIDE + c] = s;
    }
  }
}

/** For each canvas pixel c, the source pixels its preimage overlaps and the overlap fractions. */
function axisWeights(
  side: number,
  offset: number,
  first: Int32Array,
  count: Int32Array,
  weights: Float64Array,
): void {
  const k = IMAGE_SIDE / side;
  for (let c = 0; c < IMAGE_SIDE; c++) {
    const a = Math.max(0, (c - offset) * k);
    const b = Math.min(IMAGE_SIDE, (c + 1 - offset) * k);
    count[c] = 0;
    first[c] = 0;
    if (b <= a) continue;
    const j0 = Math.floor(a);
    const j1 = Math.min(IMAGE_SIDE, Math.ceil(b));
    first[c] = j0;
    let n = 0;
    for (let j = j0; j < j1 && n < MAX_TAPS; j++, n++) {
      weights[c * MAX_TAPS + n] = (Math.min(b, j + 1) - Math.max(a, j)) / k;
    }
    count[c] = n;
  }
}
