/**
 * The single-process engine: the whole model in this process, one `tf.variableGrads` per step and
 * no device sync (the loss terms stay on the device until the loop asks for them).
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../common/errors.js';
import type { CrlModel } from '../model/index.js';
import { FlatAdam, type AdamConfig } from './adam.js';
import type { LossValues, StepContext, StepEngine, TrainData } from './train.js';

export class LocalEngine implements StepEngine {
  readonly adam: FlatAdam;
  private readonly data: tf.Tensor2D[];

  constructor(
    readonly model: CrlModel,
    data: TrainData,
    adam: AdamConfig,
  ) {
    const dims = model.config.modalities.map((m) => m.dims);
    if (data.xs.length !== dims.length)
      throw invalidArgument(`${data.xs.length} modality blocks for ${dims.length}`);
    data.xs.forEach((x, m) => {
      if (x.length !== data.n * (dims[m] as number)) {
        throw invalidArgument(`modality ${m + 1}: ${x.length} values for ${data.n} x ${dims[m]}`);
      }
    });
    this.data = data.xs.map((x, m) => tf.keep(tf.tensor2d(x, [data.n, dims[m] as number])));
    this.adam = new FlatAdam(model.params.list(), adam);
  }

  step(rows: Int32Array, ctx: StepContext): Promise<tf.Tensor1D> {
    const params = this.model.params.list();
    const terms = tf.tidy(() => {
      const idx = tf.tensor1d(rows, 'int32');
      const xb = this.data.map((x) => tf.gather(x, idx) as tf.Tensor2D);
      let parts: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(
        () => {
          const l = this.model.losses(xb, { training: true, seed: ctx.seed, spScale: ctx.spScale });
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
      const idx = tf.tensor1d(rows, 'int32');
      const xb = this.data.map((x) => tf.gather(x, idx) as tf.Tensor2D);
      const l = this.model.losses(xb, { training: false, seed });
      return tf.stack([l.total, l.ind, l.sp, l.recon]).dataSync();
    });
    return Promise.resolve({
      total: v[0] as number,
      ind: v[1] as number,
      sp: v[2] as number,
      recon: v[3] as number,
    });
  }

  /** Estimated latents (posterior means) for all rows in dataset order, row-major n x d. */
  latents(): Float32Array {
    const n = this.data[0]?.shape[0] ?? 0;
    const d = this.model.layout.d;
    const out = new Float32Array(n * d);
    const chunk = 4096;
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const vals = tf.tidy(() => {
        const xb = this.data.map((x) => tf.slice(x, [start, 0], [size, -1]) as tf.Tensor2D);
        return this.model.encodeLatents(xb).dataSync();
      });
      out.set(vals, start * d);
    }
    return out;
  }

  dispose(): void {
    this.data.forEach((t) => t.dispose());
    this.adam.dispose();
  }
}
