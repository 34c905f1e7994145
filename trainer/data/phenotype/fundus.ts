/**
 * Fundus photographs, rendered parametrically from three retinal latents:
 *
 *   vessel density   how many vessel branches leave the four main arcades (continuous: the last
 *                    branch fades in with the fractional part, so the image moves smoothly with
 *                    the latent rather than in steps)
 *   vessel calibre   the width of every vessel
 *   optic-disc size  the radius of the bright optic disc
 *
 * A picture is an orange-red disc on black, darker at the rim and at the macula, with a pale
 * optic disc on the nasal side and dark-red vessels leaving it. Vessels are curves in polar
 * coordinates around the optic disc, theta(rho) = theta0 + c (rho - rho0): a pixel's distance to
 * one is its angular offset times rho, corrected for the curve's slope. That is a handful of
 * arithmetic operations per vessel and pixel with no rasterising of paths: a 32x32 image costs
 * about 0.15 ms, so the 200,000 images of a 100,000-participant cohort take about half a minute.
 * Edges are anti-aliased by coverage (distance to the edge in pixels, clamped to [0, 1]).
 *
 * What stays random per image (nuisance, not in the truth): arcade angles and curvature, where the
 * branches leave and how they bend, the disc's position jitter, illumination and a +-2 level
 * dither. The left eye is the same geometry mirrored left-right.
 */
import type { Rng } from '../../../common/random.js';

export interface RetinalFactors {
  /** Standardised latents. */
  density: number;
  calibre: number;
  disc: number;
}

const MAIN_VESSELS = 4;
const MAX_BRANCHES = 14;
const VESSELS = MAIN_VESSELS + MAX_BRANCHES;
const STRIDE = 5;
const TWO_PI = 2 * Math.PI;
const INV_TWO_PI = 1 / TWO_PI;
/** Fundus radius in normalised coordinates (the image spans [-1, 1]). */
const FUNDUS_RADIUS = 0.94;
/** Right eye: the optic disc sits right of centre (nasal), the macula left of it. */
const DISC_X = 0.42;
const MACULA_X = -0.12;

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const clamp3 = (x: number): number => (x < -3 ? -3 : x > 3 ? 3 : x);

/**
 * Renders [S, S, 3] uint8 images. Holds the per-pixel template (coordinates, fundus mask and
 * background shading) that does not depend on the participant, and the vessel scratch.
 */
export class FundusRenderer {
  readonly size: number;
  private readonly px: number;
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  /** Fundus coverage times vignetting and macular shading: the background's brightness. */
  private readonly shade: Float32Array;
  private readonly inside: Uint8Array;
  private readonly theta0 = new Float64Array(VESSELS);
  private readonly rho0 = new Float64Array(VESSELS);
  private readonly curl = new Float64Array(VESSELS);
  private readonly halfWidth = new Float64Array(VESSELS);
  private readonly opacity = new Float64Array(VESSELS);
  private readonly packed = new Float64Array(VESSELS * STRIDE);

  constructor(size: number) {
    this.size = size;
    this.px = 2 / size;
    const count = size * size;
    this.x = new Float32Array(count);
    this.y = new Float32Array(count);
    this.shade = new Float32Array(count);
    this.inside = new Uint8Array(count);
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const p = row * size + col;
        const u = (2 * (col + 0.5)) / size - 1;
        const v = (2 * (row + 0.5)) / size - 1;
        const r2 = u * u + v * v;
        const coverage = clamp01((FUNDUS_RADIUS - Math.sqrt(r2)) / this.px + 0.5);
        const macula = (u - MACULA_X) ** 2 + v * v;
        this.x[p] = u;
        this.y[p] = v;
        this.shade[p] = coverage * (1 - 0.4 * r2) * (1 - 0.3 * Math.exp(-macula / 0.03));
        this.inside[p] = coverage > 0 ? 1 : 0;
      }
    }
  }

  /**
   * Writes one image at `out[offset..offset + S*S*3)`. Draws a fixed number of values from `rng`
   * whatever the latents, so the nuisance of later participants does not depend on earlier latents.
   */
  render(out: Uint8Array, offset: number, f: RetinalFactors, mirrored: boolean, rng: Rng): void {
    const S = this.size;
    const px = this.px;
    const discRadius = 0.16 * Math.exp(0.2 * clamp3(f.disc));
    const cx = DISC_X + 0.03 * rng.normal();
    const cy = 0.04 * rng.normal();
    const gain = 1 + 0.06 * rng.normal();
    const mainHalf = 0.05 * Math.exp(0.25 * clamp3(f.calibre));
    const start = 0.8 * discRadius;

    // Arcades: two temporal ones sweeping up and down around the macula (towards -x), two short
    // nasal ones. In polar angle around the disc, "up then towards the macula" is theta growing
    // from about pi/2 towards pi, hence the signed curl.
    for (let k = 0; k < MAIN_VESSELS; k++) {
      const up = k % 2 === 0 ? 1 : -1;
      const temporal = k < 2;
      this.theta0[k] = up * ((temporal ? 1.45 : 0.55) + 0.15 * rng.normal());
      this.curl[k] = up * (temporal ? 1.3 + 0.3 * rng.uniform() : 0.4 * rng.uniform());
      this.rho0[k] = start;
      this.halfWidth[k] = mainHalf;
      this.opacity[k] = 1;
    }
    const branches = Math.min(MAX_BRANCHES, Math.max(0, 5 + 2.5 * clamp3(f.density)));
    for (let b = 0; b < MAX_BRANCHES; b++) {
      const k = MAIN_VESSELS + b;
      const parent = rng.int(MAIN_VESSELS);
      const from = 0.25 + 0.45 * rng.uniform();
      const side = rng.sign();
      const bend = 0.6 + 0.9 * rng.uniform();
      const p0 = this.rho0[parent] as number;
      // Starts on the parent at radius `from` and leaves it with a different curl.
      this.theta0[k] = (this.theta0[parent] as number) + (this.curl[parent] as number) * (from - p0);
      this.curl[k] = (this.curl[parent] as number) + side * bend;
      this.rho0[k] = from;
      this.halfWidth[k] = 0.75 * mainHalf;
      this.opacity[k] = clamp01(branches - b);
    }
    const active = MAIN_VESSELS + Math.ceil(branches);

    const discR = 245 * gain;
    const discG = 215 * gain;
    const discB = 150 * gain;
    // Packed per vessel: start radius, curl, the angle offset folded into one constant
    // (theta - theta0 - c (rho - rho0) = theta - c rho + (c rho0 - theta0)), half width, opacity.
    const vp = this.packed;
    for (let k = 0; k < active; k++) {
      const c = this.curl[k] as number;
      vp[k * STRIDE] = this.rho0[k] as number;
      vp[k * STRIDE + 1] = c;
      vp[k * STRIDE + 2] = c * (this.rho0[k] as number) - (this.theta0[k] as number);
      vp[k * STRIDE + 3] = this.halfWidth[k] as number;
      vp[k * STRIDE + 4] = this.opacity[k] as number;
    }
    const end = active * STRIDE;
    const x = this.x;
    const y = this.y;
    const shadeOf = this.shade;
    const inside = this.inside;
    // The dither is a mulberry32 stream seeded from `rng`: one draw of the shared generator per
    // pixel costs about 100 ns, more than the rest of the pixel, and the dither needs no more
    // than well-mixed bits.
    let state = rng.nextUint32() | 0;
    for (let row = 0; row < S; row++) {
      for (let col = 0; col < S; col++) {
        const p = row * S + col;
        const o = offset + 3 * (row * S + (mirrored ? S - 1 - col : col));
        if (inside[p] === 0) {
          out[o] = 0;
          out[o + 1] = 0;
          out[o + 2] = 0;
          continue;
        }
        const shade = (shadeOf[p] as number) * gain;
        const du = (x[p] as number) - cx;
        const dv = (y[p] as number) - cy;
        const rho = Math.sqrt(du * du + dv * dv);

        let vessel = 0;
        if (rho > start) {
          const theta = Math.atan2(dv, du);
          const taper = 1 - 0.35 * rho;
          for (let q = 0; q < end; q += STRIDE) {
            if (rho < (vp[q] as number)) continue;
            const c = vp[q + 1] as number;
            let d = theta - c * rho + (vp[q + 2] as number);
            d -= TWO_PI * Math.floor(d * INV_TWO_PI + 0.5);
            // Arc offset rho*d shrinks by the curve's slope to the perpendicular distance; far
            // pixels are rejected on squares first, which spares the square root for most pairs.
            const hw = (vp[q + 3] as number) * taper;
            const reach = hw + px;
            const slope2 = 1 + rho * rho * c * c;
            const arc = rho * d;
            if (arc * arc >= reach * reach * slope2) continue;
            const dist = Math.abs(arc) / Math.sqrt(slope2);
            const a = clamp01((hw - dist) / px + 0.5) * (vp[q + 4] as number);
            if (a > vessel) vessel = a;
          }
        }
        let r = 205 * shade * (1 - 0.42 * vessel);
        let g = 95 * shade * (1 - 0.65 * vessel);
        let b = 45 * shade * (1 - 0.5 * vessel);

        const ex = du;
        const ey = dv / 1.1;
        const disc = clamp01((discRadius - Math.sqrt(ex * ex + ey * ey)) / px + 0.5);
        if (disc > 0) {
          r += (discR - r) * disc;
          g += (discG - g) * disc;
          b += (discB - b) * disc;
        }
        // The fundus edge is anti-aliased through `shade`; the disc never reaches it.
        state = (state + 0x6d2b79f5) | 0;
        let bits = Math.imul(state ^ (state >>> 15), state | 1);
        bits ^= bits + Math.imul(bits ^ (bits >>> 7), bits | 61);
        bits ^= bits >>> 14;
        out[o] = toByte(r + ((bits & 0xff) / 255 - 0.5) * 4);
        out[o + 1] = toByte(g + (((bits >>> 8) & 0xff) / 255 - 0.5) * 4);
        out[o + 2] = toByte(b + (((bits >>> 16) & 0xff) / 255 - 0.5) * 4);
      }
    }
  }
}

function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
