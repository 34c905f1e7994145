/**
 * The single-process engine: the whole model in this process, one `tf.variableGrads` per step and
 * no device sync (the loss terms stay on the device until the loop asks for them).
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../common/errors.js';
import { rowChunks, type RowBlock } from '../data/rows/block.js';
import { batchMasks } from './masks.js';
import type { CrlModel } from '../model/index.js';
import { FlatAdam, type AdamConfig } from './adam.js';
import type { LossValues, StepContext, StepEngine, TrainData } from './train.js';

export class LocalEngine implements StepEngine {
  readonly adam: FlatAdam;
  private readonly blocks: RowBlock[];
  private readonly presence: (Uint8Array | undefined)[];
  private readonly n: number;

  constructor(
    readonly model: CrlModel,
    data: TrainData,
    adam: AdamConfig,
  ) {
    const dims = model.config.modalities.map((m) => m.dims);
    if (data.blocks.length !== dims.length)
      throw invalidArgument(`${data.blocks.length} modality blocks for ${dims.length}`);
    data.blocks.forEach((b, m) => {
      if (b.width !== dims[m] || b.n !== data.n) {
        throw invalidArgument(`modality ${m + 1}: a block of ${b.n} x ${b.width} for ${data.n} x ${dims[m]}`);
      }
    });
    this.blocks = data.blocks;
    this.n = data.n;
    this.presence = data.presence ?? data.blocks.map((b) => b.present);
    this.adam = new FlatAdam(model.params.list(), adam);
  }

  step(rows: Int32Array, ctx: StepContext): Promise<tf.Tensor1D> {
    const params = this.model.params.list();
    const terms = tf.tidy(() => {
      const xb = this.batch(rows);
      const masks = batchMasks(this.presence, rows);
      let parts: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(
        () => {
          const l = this.model.losses(xb, { training: true, seed: ctx.seed, spScale: ctx.spScale, masks });
          parts = [tf.keep(l.ind), tf.keep(l.sp), tf.keep(l.recon)];
          return l.total;
        },
        params.map((p) => p.variable),
      );
      const ordered = params.map((p) => grads[p.variable.name] ?? tf.zerosLike(p.variable));
      this.adam.apply(ordered, ctx.lr).dispose();
      const out = tf.stack([value, ...parts]) as tf.Tensor1D;
      parts.forEach((t) => t.dispose());
      return out;
    });
    return Promise.resolve(terms);
  }

  validate(rows: Int32Array, seed: number): Promise<LossValues> {
    const v = tf.tidy(() => {
      const l = this.model.losses(this.batch(rows), {
        training: false,
        seed,
        masks: batchMasks(this.presence, rows),
      });
      return tf.stack([l.total, l.ind, l.sp, l.recon]).dataSync();
    });
    return Promise.resolve({
      total: v[0] as number,
      ind: v[1] as number,
      sp: v[2] as number,
      recon: v[3] as number,
    });
  }

  /**
   * Estimated latents (posterior means) for all rows in dataset order, row-major n x d. A row of a
   * participant who lacks a modality holds the encoder's output for the zero (mean) input there;
   * `presence` says which.
   */
  latents(): Float32Array {
    return this.encodeAll(this.model.layout.d, (xs) => this.model.encodeLatents(xs));
  }

  /**
   * The whole code (posterior means of every latent and exogenous slot, rotated as the prior sees
   * it) for all rows in dataset order, row-major n x sum(k_m + e_m), slots in model order
   * [z(1) eta(1) z(2) eta(2) ...].
   */
  codes(): Float32Array {
    const width = this.model.config.modalities.reduce((a, m) => a + m.latents + m.exogenous, 0);
    return this.encodeAll(width, (xs) => this.model.encodeCode(xs));
  }

  private encodeAll(width: number, encode: (xs: tf.Tensor2D[]) => tf.Tensor2D): Float32Array {
    const out = new Float32Array(this.n * width);
    for (const rows of rowChunks(this.n, 4096)) {
      const vals = tf.tidy(() => encode(this.batch(rows)).dataSync());
      out.set(vals, (rows[0] as number) * width);
    }
    return out;
  }

  private batch(rows: Int32Array): tf.Tensor2D[] {
    return this.blocks.map((b) => tf.tensor2d(b.read(rows), [rows.length, b.width]));
  }

  dispose(): void {
    this.blocks.forEach((b) => b.close());
    this.adam.dispose();
  }
}
