/**
 * The learnable adjacency: logits A (d x d), G[i][j] > 0 meaning z_j is a parent of z_i, masked to a
 * DAG. The gate is differentiable, so the likelihood reaches A (the authors' released code picks
 * parents with a hard boolean mask, so its A never learns).
 *
 * DAG mask: j may be a parent of i when j's modality comes before i's (block strictly
 * lower-triangular in the modality order), plus, with `intraModal`, j < i inside one modality.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fromAdjacency, type Graph } from '../../common/graph.js';
import type { GateConfig, LatentLayout } from './config.js';
import type { ParamStore } from './params.js';

/** 1 where the edge j -> i (entry [i][j]) is allowed, row-major d x d. */
export function dagMask(layout: LatentLayout, intraModal: boolean): Float32Array {
  const { d, modalityOf } = layout;
  const mask = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const mi = modalityOf[i] as number;
      const mj = modalityOf[j] as number;
      if (mj < mi || (intraModal && mj === mi && j < i)) mask[i * d + j] = 1;
    }
  }
  return mask;
}

/** Weight of each entry in the sparsity penalty: 1 inter-modal, `intraWeight` intra-modal, 0 masked. */
export function sparsityWeights(layout: LatentLayout, mask: Float32Array, intraWeight: number): Float32Array {
  const { d, modalityOf } = layout;
  const w = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      if (mask[i * d + j] === 0) continue;
      w[i * d + j] = modalityOf[i] === modalityOf[j] ? intraWeight : 1;
    }
  }
  return w;
}

export class Adjacency {
  readonly logits: tf.Variable;
  readonly mask: tf.Tensor2D;
  readonly maskValues: Float32Array;

  constructor(
    private readonly layout: LatentLayout,
    private readonly cfg: GateConfig,
    params: ParamStore,
  ) {
    const d = layout.d;
    this.maskValues = dagMask(layout, cfg.intraModal);
    const init = new Float32Array(d * d);
    for (let k = 0; k < d * d; k++) init[k] = this.maskValues[k] === 1 ? cfg.initLogit : -10;
    this.logits = params.add('adjacency/logits', [d, d], { kind: 'values', values: init });
    this.mask = tf.keep(tf.tensor2d(this.maskValues, [d, d]));
  }

  /**
   * The gate G (d x d). Training with `concrete`: sigmoid((A + logistic noise) / T) drawn with
   * `seed`; evaluation with `concrete`: the hard readout (probability above the threshold);
   * `sigmoid`: sigmoid(A / T) always. Masked entries are exactly 0.
   */
  gate(training: boolean, seed: number): tf.Tensor2D {
    const { kind, temperature, threshold } = this.cfg;
    const d = this.layout.d;
    if (kind === 'sigmoid') return tf.mul(tf.sigmoid(tf.div(this.logits, temperature)), this.mask);
    if (!training) {
      const logitThreshold = Math.log(threshold / (1 - threshold));
      return tf.mul(tf.cast(tf.greater(this.logits, logitThreshold), 'float32'), this.mask);
    }
    const u = tf.randomUniform([d, d], 1e-6, 1 - 1e-6, 'float32', seed);
    const logistic = tf.sub(tf.log(u), tf.log1p(tf.neg(u)));
    return tf.mul(tf.sigmoid(tf.div(tf.add(this.logits, logistic), temperature)), this.mask);
  }

  /** Edge probabilities (concrete: sigmoid(A); sigmoid gate: the gate itself), masked. */
  probabilities(): tf.Tensor2D {
    const t = this.cfg.kind === 'sigmoid' ? this.cfg.temperature : 1;
    return tf.mul(tf.sigmoid(tf.div(this.logits, t)), this.mask);
  }

  /** Edge probabilities as numbers, row-major d x d. */
  probabilityValues(): Float32Array {
    return tf.tidy(() => this.probabilities().dataSync() as Float32Array);
  }

  /** The learned graph: j -> i where the probability exceeds the threshold. */
  readout(names: readonly string[]): Graph {
    const p = this.probabilityValues();
    const d = this.layout.d;
    const rows = Array.from({ length: d }, (_, i) =>
      Array.from({ length: d }, (_, j) => p[i * d + j] as number),
    );
    // fromAdjacency wants a[from][to]; ours is [child][parent].
    const a = Array.from({ length: d }, (_, from) =>
      Array.from({ length: d }, (_, to) => ((rows[to]?.[from] ?? 0) > this.cfg.threshold ? 1 : 0)),
    );
    return fromAdjacency(names, a);
  }

  dispose(): void {
    this.mask.dispose();
  }
}
