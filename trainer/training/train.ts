/**
 * The training loop: Adam on mini-batches, a held-out validation split, early stopping on the
 * validation loss, a cosine learning-rate schedule, global-norm gradient clipping. Every random draw
 * (split, batch order, posterior samples, gate noise) comes from one seeded `Rng`, whose state is
 * part of the checkpoint, so a resumed run continues where it stopped (bit for bit on a
 * deterministic backend such as wasm or cpu).
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../common/errors.js';
import { Rng, type RngState } from '../../common/random.js';
import type { CrlModel } from '../model/index.js';
import { DEFAULT_ADAM, FlatAdam, type AdamConfig } from './adam.js';

export interface TrainOptions {
  /** Maximum optimizer steps. */
  steps: number;
  batchSize: number;
  lr: number;
  /** `cosine`: from lr down to lr * lrMinFraction at the last step; `constant`. */
  lrSchedule: 'cosine' | 'constant';
  lrMinFraction: number;
  validationFraction: number;
  /** Evaluate (validation loss, curve row, early-stopping check) every this many steps. */
  evalEvery: number;
  /** Stop after this many evaluations without a validation improvement (0: never stop early). */
  patience: number;
  seed: number;
  adam: AdamConfig;
  /**
   * alpha_Sp ramps linearly from 0 to its value over this fraction of the steps, so the flow
   * learns the cross-modal dependence before the sparsity penalty can prune it (0: no warm-up).
   * Validation always uses the full weight.
   */
  sparsityWarmup: number;
}

export const DEFAULT_TRAIN: Readonly<Omit<TrainOptions, 'seed'>> = {
  steps: 4000,
  batchSize: 256,
  lr: 2e-3,
  lrSchedule: 'cosine',
  lrMinFraction: 0.05,
  validationFraction: 0.1,
  evalEvery: 200,
  patience: 8,
  adam: { ...DEFAULT_ADAM },
  sparsityWarmup: 0,
};

/** Training data: one row-major float block per modality, rows aligned across modalities. */
export interface TrainData {
  n: number;
  xs: Float32Array[];
}

export interface CurveRow {
  step: number;
  lr: number;
  train_total: number;
  train_ind: number;
  train_sp: number;
  train_recon: number;
  val_total: number;
  val_ind: number;
  val_sp: number;
  val_recon: number;
  /** Edges in the current graph readout. */
  edges: number;
  wall_s: number;
}

/** Loop state beyond parameters and moments; JSON, stored in the checkpoint manifest. */
export interface LoopState {
  step: number;
  rng: RngState;
  /** Training rows in the current epoch's order, and the position of the next batch. */
  order: number[];
  cursor: number;
  bestVal: number | null;
  evalsSinceBest: number;
  stoppedEarly: boolean;
  curve: CurveRow[];
  /** Wall seconds of training before this process (resumed runs add up). */
  wallBefore: number;
}

export interface TrainSummary {
  steps: number;
  stoppedEarly: boolean;
  wallS: number;
  stepsPerSecond: number;
  curve: CurveRow[];
}

export class Trainer {
  readonly adam: FlatAdam;
  state: LoopState;
  private readonly rng: Rng;
  private readonly data: tf.Tensor2D[];
  private readonly trainRows: number[];
  private readonly valRows: tf.Tensor1D;
  private readonly evalSeed: number;

  constructor(
    readonly model: CrlModel,
    data: TrainData,
    readonly options: TrainOptions,
  ) {
    checkOptions(options, data.n);
    const dims = model.config.modalities.map((m) => m.dims);
    if (data.xs.length !== dims.length)
      throw invalidArgument(`${data.xs.length} modality blocks for ${dims.length}`);
    data.xs.forEach((x, m) => {
      if (x.length !== data.n * (dims[m] as number)) {
        throw invalidArgument(`modality ${m + 1}: ${x.length} values for ${data.n} x ${dims[m]}`);
      }
    });
    this.data = data.xs.map((x, m) => tf.keep(tf.tensor2d(x, [data.n, dims[m] as number])));
    const root = new Rng(options.seed);
    const perm = root.fork('split').permutation(data.n);
    const nVal = Math.min(data.n - 1, Math.round(options.validationFraction * data.n));
    this.trainRows = perm.slice(0, data.n - nVal).sort((a, b) => a - b);
    const valRows = nVal > 0 ? perm.slice(data.n - nVal) : this.trainRows.slice(0, Math.min(1024, data.n));
    this.valRows = tf.keep(
      tf.tensor1d(
        valRows.sort((a, b) => a - b),
        'int32',
      ),
    );
    this.evalSeed = root.fork('eval').nextUint32();
    this.rng = root.fork('train');
    this.adam = new FlatAdam(model.params.list(), options.adam);
    this.state = {
      step: 0,
      rng: this.rng.getState(),
      order: [],
      cursor: 0,
      bestVal: null,
      evalsSinceBest: 0,
      stoppedEarly: false,
      curve: [],
      wallBefore: 0,
    };
  }

  learningRate(step: number): number {
    const { lr, lrSchedule, lrMinFraction, steps } = this.options;
    if (lrSchedule === 'constant') return lr;
    const p = Math.min(1, step / Math.max(1, steps));
    return lr * (lrMinFraction + (1 - lrMinFraction) * 0.5 * (1 + Math.cos(Math.PI * p)));
  }

  private nextBatch(): Int32Array {
    const { batchSize } = this.options;
    const out = new Int32Array(Math.min(batchSize, this.trainRows.length));
    for (let k = 0; k < out.length; k++) {
      if (this.state.cursor >= this.state.order.length) {
        this.state.order = this.rng.shuffle(this.trainRows.slice());
        this.state.cursor = 0;
      }
      out[k] = this.state.order[this.state.cursor++] as number;
    }
    return out;
  }

  /**
   * One optimizer step. Returns the loss terms [total, ind, sp, recon] as a tensor the caller
   * owns (no device sync here).
   */
  step(): tf.Tensor1D {
    const idx = this.nextBatch();
    const seed = this.rng.nextUint32();
    const lr = this.learningRate(this.state.step);
    const warm = this.options.sparsityWarmup * this.options.steps;
    const spScale = warm > 0 ? Math.min(1, this.state.step / warm) : 1;
    const params = this.model.params.list();
    const terms = tf.tidy(() => {
      const idxT = tf.tensor1d(idx, 'int32');
      const xb = this.data.map((x) => tf.gather(x, idxT) as tf.Tensor2D);
      let parts: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(
        () => {
          const l = this.model.losses(xb, { training: true, seed, spScale });
          parts = [tf.keep(l.ind), tf.keep(l.sp), tf.keep(l.recon)];
          return l.total;
        },
        params.map((p) => p.variable),
      );
      const ordered = params.map((p) => grads[p.variable.name] ?? tf.zerosLike(p.variable));
      this.adam.apply(ordered, lr).dispose();
      const out = tf.stack([value, ...parts]) as tf.Tensor1D;
      parts.forEach((t) => t.dispose());
      return out;
    });
    this.state.step += 1;
    this.state.rng = this.rng.getState();
    return terms;
  }

  /** Mean loss terms over the validation rows (evaluation gate, fixed posterior-sample seed). */
  validationLoss(): { total: number; ind: number; sp: number; recon: number } {
    const nRows = this.valRows.size;
    const chunk = 4096;
    const sums = [0, 0, 0, 0];
    for (let start = 0; start < nRows; start += chunk) {
      const end = Math.min(nRows, start + chunk);
      const vals = tf.tidy(() => {
        const idx = tf.slice(this.valRows, [start], [end - start]);
        const xb = this.data.map((x) => tf.gather(x, idx) as tf.Tensor2D);
        const l = this.model.losses(xb, { training: false, seed: (this.evalSeed + start) >>> 0 });
        return tf.stack([l.total, l.ind, l.sp, l.recon]).dataSync();
      });
      for (let k = 0; k < 4; k++) sums[k] = (sums[k] as number) + (vals[k] as number) * (end - start);
    }
    const n = nRows;
    return {
      total: (sums[0] as number) / n,
      ind: (sums[1] as number) / n,
      sp: (sums[2] as number) / n,
      recon: (sums[3] as number) / n,
    };
  }

  /**
   * Trains until `options.steps` or early stopping, calling `onEval` after each evaluation. A
   * restored trainer continues from its step.
   */
  run(onEval?: (row: CurveRow) => void): TrainSummary {
    const started = performance.now();
    const startStep = this.state.step;
    const { steps, evalEvery, patience } = this.options;
    let acc: tf.Tensor1D | undefined;
    let accSteps = 0;
    while (this.state.step < steps && !this.state.stoppedEarly) {
      const terms = this.step();
      if (acc === undefined) acc = terms;
      else {
        const next = tf.add(acc, terms) as tf.Tensor1D;
        acc.dispose();
        terms.dispose();
        acc = next;
      }
      accSteps += 1;
      if (this.state.step % evalEvery === 0 || this.state.step === steps) {
        const train = acc.dataSync();
        acc.dispose();
        acc = undefined;
        const val = this.validationLoss();
        if (!Number.isFinite(val.total) || !Number.isFinite(train[0] as number)) {
          throw invalidArgument(
            `the loss became non-finite at step ${this.state.step} (lower --lr, or check the data)`,
            { field: '--lr' },
          );
        }
        const row: CurveRow = {
          step: this.state.step,
          lr: this.learningRate(this.state.step - 1),
          train_total: (train[0] as number) / accSteps,
          train_ind: (train[1] as number) / accSteps,
          train_sp: (train[2] as number) / accSteps,
          train_recon: (train[3] as number) / accSteps,
          val_total: val.total,
          val_ind: val.ind,
          val_sp: val.sp,
          val_recon: val.recon,
          edges: this.model.graph().edges.length,
          wall_s: this.state.wallBefore + (performance.now() - started) / 1000,
        };
        accSteps = 0;
        this.state.curve.push(row);
        const best = this.state.bestVal;
        if (best === null || val.total < best - 1e-4 * Math.abs(best)) {
          this.state.bestVal = val.total;
          this.state.evalsSinceBest = 0;
        } else {
          this.state.evalsSinceBest += 1;
          if (patience > 0 && this.state.evalsSinceBest >= patience) this.state.stoppedEarly = true;
        }
        onEval?.(row);
      }
    }
    acc?.dispose();
    const elapsed = (performance.now() - started) / 1000;
    this.state.wallBefore += elapsed;
    return {
      steps: this.state.step,
      stoppedEarly: this.state.stoppedEarly,
      wallS: this.state.wallBefore,
      stepsPerSecond: elapsed > 0 ? (this.state.step - startStep) / elapsed : 0,
      curve: this.state.curve,
    };
  }

  /** Restores loop state (after parameters and moments were restored by the checkpoint reader). */
  setLoopState(state: LoopState): void {
    this.state = structuredClone(state);
    this.rng.setState(state.rng);
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
    this.valRows.dispose();
    this.adam.dispose();
  }
}

function checkOptions(o: TrainOptions, n: number): void {
  const positiveInt = (v: number, field: string): void => {
    if (!Number.isInteger(v) || v < 1)
      throw invalidArgument(`must be a positive integer, got ${v}`, { field });
  };
  positiveInt(o.steps, '--steps');
  positiveInt(o.batchSize, '--batch');
  positiveInt(o.evalEvery, 'evalEvery');
  if (!(o.lr > 0) || !Number.isFinite(o.lr))
    throw invalidArgument(`must be > 0, got ${o.lr}`, { field: '--lr' });
  if (!(o.validationFraction >= 0 && o.validationFraction < 1)) {
    throw invalidArgument(`must be in [0, 1), got ${o.validationFraction}`, { field: 'validationFraction' });
  }
  if (n < 2) throw invalidArgument(`need at least 2 rows to train, got ${n}`);
}
