/**
 * Latent causal mechanisms z_i = f_i(Pa(z_i)) + eps_i (paper eq. 1 with additive Gaussian noise).
 * Each f_i is a random one-hidden-layer tanh network: smooth, nonlinear, and non-degenerate after
 * scaling to a drawn strength, so every edge of the truth graph carries real dependence.
 */
import { parentsOf, type Graph } from '../../../common/graph.js';
import type { Rng } from '../../../common/random.js';
import type { SyntheticSpec } from './spec.js';

export interface Mechanism {
  parents: number[];
  /** hidden x parents, row-major. */
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  /** Standard deviation f_i is scaled to, relative to the noise. */
  strength: number;
}

export function drawMechanisms(graph: Graph, spec: SyntheticSpec, rng: Rng): Mechanism[] {
  const h = spec.mechanismHidden;
  return parentsOf(graph).map((parents) => {
    const p = parents.length;
    const w1 = new Float64Array(h * p);
    for (let k = 0; k < w1.length; k++) w1[k] = 1.5 * rng.normal();
    const b1 = new Float64Array(h);
    for (let k = 0; k < h; k++) b1[k] = rng.normal();
    const w2 = new Float64Array(h);
    for (let k = 0; k < h; k++) w2[k] = rng.normal();
    return { parents, w1, b1, w2, strength: p > 0 ? rng.between(spec.strength[0], spec.strength[1]) : 0 };
  });
}

export interface LatentSample {
  /** One array of n values per latent, in graph node order; each standardised. */
  z: Float64Array[];
  /** The causal noise of each latent on the same scale as z (z_i = f_i(Pa) + eps_i exactly). */
  eps: Float64Array[];
}

/** Samples latents in node order, which the generator guarantees is topological. */
export function sampleLatents(mechanisms: Mechanism[], n: number, noiseStd: number, rng: Rng): LatentSample {
  const z: Float64Array[] = [];
  const eps: Float64Array[] = [];
  mechanisms.forEach((mech, i) => {
    const e = new Float64Array(n);
    for (let r = 0; r < n; r++) e[r] = noiseStd * rng.normal();
    const value = new Float64Array(n);
    if (mech.parents.length > 0) {
      const f = evaluateMechanism(mech, z, n);
      standardise(f);
      for (let r = 0; r < n; r++) value[r] = mech.strength * noiseStd * (f[r] as number) + (e[r] as number);
    } else {
      value.set(e);
    }
    // Unit variance per latent keeps the mixing's input scale comparable across nodes; the noise
    // is rescaled with it so the additive relation still holds exactly.
    const { std } = standardise(value);
    for (let r = 0; r < n; r++) e[r] = (e[r] as number) / std;
    z[i] = value;
    eps[i] = e;
  });
  return { z, eps };
}

/** f_i(Pa) for the first n rows of `z` (before the strength scaling of sampling). */
export function evaluateMechanism(mech: Mechanism, z: readonly Float64Array[], n: number): Float64Array {
  const p = mech.parents.length;
  const h = mech.b1.length;
  const out = new Float64Array(n);
  const pa = mech.parents.map((j) => z[j] as Float64Array);
  for (let r = 0; r < n; r++) {
    let acc = 0;
    for (let k = 0; k < h; k++) {
      let pre = mech.b1[k] as number;
      for (let q = 0; q < p; q++)
        pre += (mech.w1[k * p + q] as number) * ((pa[q] as Float64Array)[r] as number);
      acc += (mech.w2[k] as number) * Math.tanh(pre);
    }
    out[r] = acc;
  }
  return out;
}

/** Centres and scales to unit variance in place; returns the statistics used. */
export function standardise(x: Float64Array): { mean: number; std: number } {
  const n = x.length;
  let mean = 0;
  for (let r = 0; r < n; r++) mean += x[r] as number;
  mean /= n;
  let ss = 0;
  for (let r = 0; r < n; r++) ss += ((x[r] as number) - mean) ** 2;
  const std = Math.sqrt(ss / n);
  // A mechanism whose hidden units all saturate the same way is (nearly) constant; scaling it up
  // would turn rounding noise into signal, so leave it centred and report std as 1.
  const scale = std > 1e-12 ? std : 1;
  for (let r = 0; r < n; r++) x[r] = ((x[r] as number) - mean) / scale;
  return { mean, std: scale };
}
