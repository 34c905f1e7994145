/**
 * Variant MNIST, first design (`mnist-v1`, the paper's §6.2 and Appendix D.2): class labels are
 * causes, colour and rotation are their effects.
 *
 *   digit modality (coloured MNIST, 28x28x3)       fashion modality (Fashion-MNIST, 28x28x1)
 *     z1_1  digit class 0..9                          z2_1  fashion class 0..9
 *     z1_2  hue of the digit                          z2_2  rotation angle of the item (degrees)
 *
 *   z1_1 -> z1_2,  z1_1 -> z2_1 (inter-modal),  z2_1 -> z2_2
 *
 * Mechanisms (ε ~ N(0, 1)); the paper gives no numbers, these are chosen so each effect is mostly
 * but not entirely determined by its cause (a deterministic effect would not be a latent of its own):
 *
 *   z1_1 ~ uniform over 0..9
 *   z1_2 = clip(0.05 + 0.08 z1_1 + 0.02 ε, 0, 0.82)       hue bands red (0) .. violet (9), overlapping
 *   z2_1 = z1_1 with probability 0.8, else uniform 0..9   so P(z2_1 = z1_1) = 0.82; the mapping is the
 *                                                         identity: digit 0 -> T-shirt/top .. 9 -> Ankle boot
 *   z2_2 = -45 + 10 z2_1 + 5 ε                            degrees, positive = counterclockwise on screen
 *
 * The class-to-effect maps are monotone in the class index so that linear CI tests see the edges;
 * the hue range stops short of wrapping around to red so hue is a linear quantity.
 *
 * Latents for MCC. The classes are recorded as their index (0..9) and the effects as the continuous
 * hue (HSV, 0..1) and angle (degrees). MCC against a discrete latent is a weaker notion than
 * against a continuous one: any encoding that separates the ten classes in the right order scores
 * well, the within-class variation of the estimate counts as error, and a learned code that orders
 * the classes differently (the index order is arbitrary) scores low although it identifies them.
 *
 * Rendering: the digit is the source image unchanged in geometry, coloured with its hue (full
 * saturation and value) on black; the fashion item is shrunk to 20x20 (so that no rotation pushes
 * it off the 28x28 canvas) and rotated about the canvas centre, bilinear. Digits and items are drawn
 * from their class's pool by successive seeded permutations. No exogenous truth is written: the
 * remaining content (handwriting, garment shape) is the source image, indexed in truth/sources.csv.
 */
import { Rng } from '../../../common/random.js';
import { CLASSES, IMAGE_PIXELS, IMAGE_SIDE, SourceCycle, imageOf, type ImageSet } from './sources.js';
import { hueToRgb, latentGraph } from './variant-v2.js';
import type { MnistVariant } from './write.js';

/** Side of the fashion item before rotation: its diagonal (28.3 px) just fits the canvas. */
export const V1_FASHION_SIDE = 20;
export const V1_HUE_MAX = 0.82;
/** Probability that the fashion class copies the digit class (before the uniform fallback). */
export const V1_CLASS_KEEP = 0.8;

export function v1HueMean(digitClass: number): number {
  return 0.05 + 0.08 * digitClass;
}

export function v1AngleMean(fashionClass: number): number {
  return -45 + 10 * fashionClass;
}

export const MNIST_V1: MnistVariant = {
  version: 'v1',
  fashionChannels: 1,
  latents: [
    ['z1_1', 'z1_2'],
    ['z2_1', 'z2_2'],
  ],
  exogenous: [[], []],
  graph: latentGraph({
    z1_1: 'digit class',
    z1_2: 'digit hue',
    z2_1: 'fashion class',
    z2_2: 'fashion rotation angle',
  }),
  design: {
    latents: {
      z1_1: 'digit class 0..9 (discrete, as its index)',
      z1_2: `hue of the digit, HSV with full saturation and value, 0 .. ${V1_HUE_MAX}`,
      z2_1: 'fashion class 0..9 (discrete, as its index)',
      z2_2: 'rotation of the fashion item in degrees, counterclockwise on screen',
    },
    mechanisms: {
      z1_1: 'uniform over 0..9',
      z1_2: `clip(0.05 + 0.08 z1_1 + 0.02 e, 0, ${V1_HUE_MAX}), e ~ N(0, 1)`,
      z2_1: `z1_1 with probability ${V1_CLASS_KEEP}, else uniform over 0..9`,
      z2_2: '-45 + 10 z2_1 + 5 e, e ~ N(0, 1)',
    },
    rendering: `digit unchanged in geometry, coloured on black; fashion item shrunk to ${V1_FASHION_SIDE}x${V1_FASHION_SIDE} and rotated about the centre (bilinear)`,
    sampling: 'digit and item drawn from their class pool by successive seeded permutations',
    note: 'MCC against the discrete class latents is a weaker notion than against continuous ones',
  },
  rows(seed: number, digits: ImageSet, fashion: ImageSet) {
    const root = new Rng(seed).fork('mnist-v1');
    const lat = root.fork('latents');
    const digitCycles = digits.byClass.map((pool, c) => new SourceCycle(pool, root.fork(`digits-${c}`)));
    const fashionCycles = fashion.byClass.map((pool, c) => new SourceCycle(pool, root.fork(`fashion-${c}`)));
    return (digitOut, fashionOut) => {
      const digitClass = lat.int(CLASSES);
      const hue = Math.min(V1_HUE_MAX, Math.max(0, v1HueMean(digitClass) + 0.02 * lat.normal()));
      // Both draws every row, so the stream advances the same way whichever branch is taken.
      const keep = lat.uniform() < V1_CLASS_KEEP;
      const other = lat.int(CLASSES);
      const fashionClass = keep ? digitClass : other;
      const angle = v1AngleMean(fashionClass) + 5 * lat.normal();
      const di = (digitCycles[digitClass] as SourceCycle).next();
      const fi = (fashionCycles[fashionClass] as SourceCycle).next();
      renderDigitV1(imageOf(digits, di), hue, digitOut);
      renderFashionV1(imageOf(fashion, fi), angle, fashionOut);
      return {
        latents: [digitClass, hue, fashionClass, angle],
        exogenous: [],
        digitIndex: di,
        fashionIndex: fi,
      };
    };
  },
};

/** Coloured digit [28, 28, 3]: the source's ink times the hue's RGB, on black. */
export function renderDigitV1(src: Uint8Array, hue: number, out: Uint8Array): void {
  const [r, g, b] = hueToRgb(hue);
  for (let p = 0; p < IMAGE_PIXELS; p++) {
    const v = src[p] as number;
    out[3 * p] = Math.round(v * r);
    out[3 * p + 1] = Math.round(v * g);
    out[3 * p + 2] = Math.round(v * b);
  }
}

/**
 * Item [28, 28, 1] shrunk to V1_FASHION_SIDE and rotated by `degrees` (counterclockwise on screen)
 * about the canvas centre. Each canvas pixel centre is mapped back into the source and sampled
 * bilinearly; outside the source is black.
 */
export function renderFashionV1(src: Uint8Array, degrees: number, out: Uint8Array): void {
  const theta = (degrees * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const k = IMAGE_SIDE / V1_FASHION_SIDE;
  const centre = IMAGE_SIDE / 2;
  for (let r = 0; r < IMAGE_SIDE; r++) {
    const dy = r + 0.5 - centre;
    for (let c = 0; c < IMAGE_SIDE; c++) {
      const dx = c + 0.5 - centre;
      // Image rows grow downwards, so the inverse of a counterclockwise turn is (cos, -sin; sin, cos).
      const sx = k * (dx * cos - dy * sin) + centre - 0.5;
      const sy = k * (dx * sin + dy * cos) + centre - 0.5;
      out[r * IMAGE_SIDE + c] = Math.round(bilinear(src, sx, sy));
    }
  }
}

function bilinear(src: Uint8Array, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  return (
    (1 - fy) * ((1 - fx) * pixel(src, y0, x0) + fx * pixel(src, y0, x0 + 1)) +
    fy * ((1 - fx) * pixel(src, y0 + 1, x0) + fx * pixel(src, y0 + 1, x0 + 1))
  );
}

function pixel(src: Uint8Array, i: number, j: number): number {
  return i < 0 || j < 0 || i >= IMAGE_SIDE || j >= IMAGE_SIDE ? 0 : (src[i * IMAGE_SIDE + j] as number);
}
