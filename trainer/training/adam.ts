/**
 * Adam over all parameters at once: gradients are flattened into one vector, clipped by global norm,
 * and the moments live in two flat variables, so a step costs a handful of kernels instead of ~10
 * per parameter (per-op overhead dominates small models in tfjs). Moments are saved and restored
 * per parameter name (see checkpoint.ts), never by position.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedParam } from '../model/params.js';

export interface AdamConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Clip the global gradient norm to this (Infinity: no clipping). */
  clipNorm: number;
  /**
   * Learning-rate multipliers by parameter-name prefix (`{ 'adjacency/': 5 }`); the first matching
   * prefix wins, others get 1. Adam moves a parameter by at most about lr per step whatever its
   * gradient, so a parameter that must travel far (the adjacency logits, from their dense start to
   * below the readout threshold) can be lr-bound within a short budget. Absent or empty: plain Adam.
   */
  lrScale?: Readonly<Record<string, number>>;
}

export const DEFAULT_ADAM: Readonly<AdamConfig> = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: 5 };

export class FlatAdam {
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  /** Steps taken (bias correction uses it). */
  t = 0;
  readonly sizes: number[];
  private readonly total: number;
  /** Per-element learning-rate multipliers, or undefined when all are 1 (the plain update). */
  private readonly scale: tf.Tensor1D | undefined;

  constructor(
    private readonly params: readonly NamedParam[],
    readonly config: AdamConfig = DEFAULT_ADAM,
  ) {
    this.sizes = params.map((p) => p.variable.size);
    this.total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.variable(tf.zeros([this.total]), false);
    this.v = tf.variable(tf.zeros([this.total]), false);
    this.scale = scaleVector(params, this.sizes, config.lrScale ?? {});
  }

  /**
   * One update with gradients in parameter order. Returns the global gradient norm before clipping
   * as a scalar tensor the caller owns. `globalNorm` replaces the norm of `grads` when these
   * parameters are part of a model spread over several trainers: clipping must see all of it.
   */
  apply(grads: readonly tf.Tensor[], lr: number, globalNorm?: number): tf.Scalar {
    this.t += 1;
    const { beta1, beta2, epsilon, clipNorm } = this.config;
    const t = this.t;
    return tf.tidy(() => {
      const flat = flatten(grads);
      const norm = globalNorm === undefined ? tf.sqrt(tf.sum(tf.square(flat))) : tf.scalar(globalNorm);
      const g = Number.isFinite(clipNorm)
        ? tf.mul(flat, tf.minimum(1, tf.div(clipNorm, tf.add(norm, 1e-12))))
        : flat;
      const m = tf.add(tf.mul(this.m, beta1), tf.mul(g, 1 - beta1));
      const v = tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(g), 1 - beta2));
      this.m.assign(m);
      this.v.assign(v);
      const stepSize = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      let update = tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), epsilon * Math.sqrt(1 - beta2 ** t)));
      if (this.scale !== undefined) update = tf.mul(update, this.scale);
      const parts = tf.split(update, this.sizes);
      this.params.forEach((p, i) => {
        p.variable.assign(tf.sub(p.variable, tf.reshape(parts[i] as tf.Tensor, p.variable.shape)));
      });
      return tf.keep(norm) as tf.Scalar;
    });
  }

  /** Per-parameter moment values, keyed by parameter name. */
  momentValues(): { name: string; m: Float32Array; v: Float32Array }[] {
    const m = this.m.dataSync() as Float32Array;
    const v = this.v.dataSync() as Float32Array;
    let offset = 0;
    return this.params.map((p, i) => {
      const size = this.sizes[i] as number;
      const out = { name: p.name, m: m.slice(offset, offset + size), v: v.slice(offset, offset + size) };
      offset += size;
      return out;
    });
  }

  /** Restores moments by parameter name; every parameter must be present. */
  setMoments(byName: ReadonlyMap<string, { m: Float32Array; v: Float32Array }>, t: number): void {
    const m = new Float32Array(this.total);
    const v = new Float32Array(this.total);
    let offset = 0;
    this.params.forEach((p, i) => {
      const entry = byName.get(p.name);
      if (entry === undefined) throw new Error(`no optimizer state for ${p.name}`);
      m.set(entry.m, offset);
      v.set(entry.v, offset);
      offset += this.sizes[i] as number;
    });
    tf.tidy(() => {
      this.m.assign(tf.tensor1d(m));
      this.v.assign(tf.tensor1d(v));
    });
    this.t = t;
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
    this.scale?.dispose();
  }
}

function scaleVector(
  params: readonly NamedParam[],
  sizes: readonly number[],
  lrScale: Readonly<Record<string, number>>,
): tf.Tensor1D | undefined {
  const prefixes = Object.entries(lrScale);
  for (const [prefix, x] of prefixes) {
    if (!(x > 0) || !Number.isFinite(x)) throw new Error(`lrScale['${prefix}'] must be > 0, got ${x}`);
  }
  const perParam = params.map((p) => prefixes.find(([prefix]) => p.name.startsWith(prefix))?.[1] ?? 1);
  if (perParam.every((x) => x === 1)) return undefined;
  const values = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let offset = 0;
  perParam.forEach((x, i) => {
    const size = sizes[i] as number;
    values.fill(x, offset, offset + size);
    offset += size;
  });
  return tf.keep(tf.tensor1d(values));
}

/** Gradients in parameter order as one vector. */
export function flatten(grads: readonly tf.Tensor[]): tf.Tensor1D {
  return tf.concat(grads.map((g) => tf.reshape(g, [-1]))) as tf.Tensor1D;
}
