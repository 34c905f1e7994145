/**
 * The training loop: Adam on mini-batches, a held-out validation split, early stopping on the
 * validation loss, a cosine learning-rate schedule, global-norm gradient clipping. Every random draw
 * (split, batch order, posterior samples, gate noise) comes from one seeded `Rng`, whose state is
 * part of the checkpoint, so a resumed run continues where it stopped (bit for bit on a
 * deterministic backend such as wasm or cpu).
 *
 * When training ends (step budget or early stopping) the parameters of the evaluation with the
 * lowest validation loss are put back (`restoreBest`), so the latents and the graph come from the
 * model that validated best rather than from wherever the last steps left it. The copy is taken on
 * the device at each new best (no download), lives beside the loop state and is checkpointed with it.
 *
 * The loop is the same for one process and for a trainer group: it only decides which rows, seeds
 * and learning rate each step uses; a `StepEngine` does the arithmetic (`LocalEngine` here, the
 * group engine in trainer/distributed/, which gets the same decisions from the same seed on every
 * trainer).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CurveRow } from '../../common/curve.js';
import { invalidArgument } from '../../common/errors.js';
import { Rng, type RngState } from '../../common/random.js';
import type { RowBlock } from '../data/rows/block.js';
import type { CrlModel } from '../model/index.js';
import { DEFAULT_ADAM, type AdamConfig, type FlatAdam } from './adam.js';

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
  /**
   * When training ends, put back the parameters of the evaluation with the lowest validation loss
   * (a copy is kept at each new best). Off: the last step's parameters stay.
   */
  restoreBest: boolean;
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
  // The adjacency logits learn 4x faster than the rest, and the sparsity penalty ramps in over the
  // first 30 % of the steps: at the plain rate the spurious edges could fall only ~2 logits in 2000
  // steps and stayed at the threshold; faster from the start, true edges fell before the flow had
  // learnt the dependence. Measured on c1, 5 seeds, 2000 steps (README, "crl train"): SHD 2 -> 1
  // (median), better on 4 of 5 seeds, MCC median 0.767 -> 0.837.
  // The code rotations (model/rotation.ts) learn 10x faster: at the plain rate they turned
  // ~0.2 rad in 2000 steps where a misplaced latent needs ~1.6 (c1 data seeds 2-3, 3 inits each:
  // MCC median 0.66 without rotations, 0.81 with them at 1x, 0.97 at 10x).
  adam: { ...DEFAULT_ADAM, lrScale: { 'adjacency/': 4, 'rotation/': 10 } },
  sparsityWarmup: 0.3,
  restoreBest: true,
};

/** Training data: one block per modality this engine owns, rows (participants) aligned. */
export interface TrainData {
  n: number;
  blocks: RowBlock[];
  /**
   * Presence of every modality of the model, in model order, where it differs from the blocks'
   * (a group trainer owns some blocks but weighs rows by every modality's presence).
   */
  presence?: (Uint8Array | undefined)[];
}

export type { CurveRow };

/** Loop state beyond parameters and moments; JSON, stored in the checkpoint manifest. */
export interface LoopState {
  step: number;
  rng: RngState;
  /** Training rows in the current epoch's order, and the position of the next batch. */
  order: number[];
  cursor: number;
  bestVal: number | null;
  /** Step of the evaluation that gave `bestVal` (null before the first evaluation). */
  bestStep: number | null;
  evalsSinceBest: number;
  stoppedEarly: boolean;
  curve: CurveRow[];
  /** Wall seconds of training before this process (resumed runs add up). */
  wallBefore: number;
}

export interface TrainSummary {
  steps: number;
  stoppedEarly: boolean;
  /** Step of the best evaluation, whose parameters the model holds when `restoreBest` applied. */
  bestStep: number | null;
  /** The lowest validation loss seen (null before the first evaluation). */
  bestVal: number | null;
  wallS: number;
  stepsPerSecond: number;
  curve: CurveRow[];
}

/** Loss terms summed or averaged over rows. */
export interface LossValues {
  total: number;
  ind: number;
  sp: number;
  recon: number;
}

export interface StepContext {
  /** Seed of the step's posterior noise and gate noise. */
  seed: number;
  lr: number;
  /** Multiplier of alpha_Sp (warm-up). */
  spScale: number;
  /** Optimizer steps taken before this one. */
  step: number;
}

/** The arithmetic of training: one process, or this trainer's part of a group. */
export interface StepEngine {
  /** The parameters this engine updates (a model part on a group trainer). */
  readonly model: CrlModel;
  readonly adam: FlatAdam;
  /**
   * One optimizer step on the given batch rows (dataset row indices). Returns [total, ind, sp,
   * recon] as a tensor the caller owns, so a local engine need not wait for the device.
   */
  step(rows: Int32Array, ctx: StepContext): Promise<tf.Tensor1D>;
  /** Mean loss terms over `rows` with the evaluation gate; `seed` fixes the posterior noise. */
  validate(rows: Int32Array, seed: number, step: number, pass: number): Promise<LossValues>;
  dispose(): void;
}

export interface RunHooks {
  /** After each evaluation, with its curve row. */
  onEval?: (row: CurveRow) => void;
  /** After each step, with its wall seconds (without device sync: dispatch time on a GPU). */
  onStep?: (seconds: number, step: number) => void;
  /** Polled before each step; true ends training (cancellation). */
  shouldStop?: () => boolean;
}

const YIELD_EVERY = 8;

/** Validation rows per forward pass (memory: the aggregate KL is quadratic in it). */
export const VALIDATION_CHUNK = 4096;

export class Trainer {
  state: LoopState;
  private readonly rng: Rng;
  private readonly trainRows: number[];
  private readonly valRows: Int32Array;
  private readonly evalSeed: number;
  /**
   * This process's parameters at the best evaluation, by name (only with `restoreBest`). Clones of
   * the variables: tfjs `assign` swaps a variable's data rather than writing into it, so a clone
   * keeps the old values without a copy or a device sync.
   */
  private best: Map<string, tf.Tensor> | undefined;

  constructor(
    readonly engine: StepEngine,
    n: number,
    readonly options: TrainOptions,
  ) {
    checkOptions(options, n);
    const root = new Rng(options.seed);
    const perm = root.fork('split').permutation(n);
    const nVal = Math.min(n - 1, Math.round(options.validationFraction * n));
    this.trainRows = perm.slice(0, n - nVal).sort((a, b) => a - b);
    const valRows = nVal > 0 ? perm.slice(n - nVal) : this.trainRows.slice(0, Math.min(1024, n));
    this.valRows = Int32Array.from(valRows.sort((a, b) => a - b));
    this.evalSeed = root.fork('eval').nextUint32();
    this.rng = root.fork('train');
    this.state = {
      step: 0,
      rng: this.rng.getState(),
      order: [],
      cursor: 0,
      bestVal: null,
      bestStep: null,
      evalsSinceBest: 0,
      stoppedEarly: false,
      curve: [],
      wallBefore: 0,
    };
  }

  get model(): CrlModel {
    return this.engine.model;
  }

  get adam(): FlatAdam {
    return this.engine.adam;
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
   * owns.
   */
  async step(): Promise<tf.Tensor1D> {
    const rows = this.nextBatch();
    const seed = this.rng.nextUint32();
    const lr = this.learningRate(this.state.step);
    const warm = this.options.sparsityWarmup * this.options.steps;
    const spScale = warm > 0 ? Math.min(1, this.state.step / warm) : 1;
    const terms = await this.engine.step(rows, { seed, lr, spScale, step: this.state.step });
    this.state.step += 1;
    this.state.rng = this.rng.getState();
    return terms;
  }

  /** Mean loss terms over the validation rows (evaluation gate, fixed posterior-sample seed). */
  async validationLoss(): Promise<LossValues> {
    const nRows = this.valRows.length;
    const sums = { total: 0, ind: 0, sp: 0, recon: 0 };
    let pass = 0;
    for (let start = 0; start < nRows; start += VALIDATION_CHUNK) {
      const end = Math.min(nRows, start + VALIDATION_CHUNK);
      pass += 1;
      const v = await this.engine.validate(
        this.valRows.subarray(start, end),
        (this.evalSeed + start) >>> 0,
        this.state.step,
        pass,
      );
      for (const k of ['total', 'ind', 'sp', 'recon'] as const) sums[k] += v[k] * (end - start);
    }
    return {
      total: sums.total / nRows,
      ind: sums.ind / nRows,
      sp: sums.sp / nRows,
      recon: sums.recon / nRows,
    };
  }

  /**
   * Trains until `options.steps` or early stopping. A restored trainer continues from its step.
   * Every few steps it yields to the event loop, so a service hosting it keeps answering calls
   * even when no step waits on the network.
   */
  async run(hooks: RunHooks = {}): Promise<TrainSummary> {
    const { onEval, onStep, shouldStop } = hooks;
    const started = performance.now();
    const startStep = this.state.step;
    const { steps, evalEvery, patience } = this.options;
    let acc: tf.Tensor1D | undefined;
    let accSteps = 0;
    try {
      while (this.state.step < steps && !this.state.stoppedEarly && !(shouldStop?.() ?? false)) {
        const stepStarted = performance.now();
        const terms = await this.step();
        onStep?.((performance.now() - stepStarted) / 1000, this.state.step);
        if (this.state.step % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
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
          const val = await this.validationLoss();
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
            this.state.bestStep = this.state.step;
            this.state.evalsSinceBest = 0;
            if (this.options.restoreBest) this.keepBest();
          } else {
            this.state.evalsSinceBest += 1;
            if (patience > 0 && this.state.evalsSinceBest >= patience) this.state.stoppedEarly = true;
          }
          onEval?.(row);
        }
      }
    } finally {
      acc?.dispose();
    }
    // Only a finished run restores: a cancelled one (shouldStop) keeps its state as it is, so a
    // checkpoint of it resumes where it stopped.
    const finished = this.state.step >= steps || this.state.stoppedEarly;
    if (finished && this.options.restoreBest) this.restoreBestParams();
    const elapsed = (performance.now() - started) / 1000;
    this.state.wallBefore += elapsed;
    return {
      steps: this.state.step,
      stoppedEarly: this.state.stoppedEarly,
      bestStep: this.state.bestStep,
      bestVal: this.state.bestVal,
      wallS: this.state.wallBefore,
      stepsPerSecond: elapsed > 0 ? (this.state.step - startStep) / elapsed : 0,
      curve: this.state.curve,
    };
  }

  /** Copies the current parameters as the best ones (replacing the previous copy). */
  private keepBest(): void {
    const next = new Map(this.model.params.list().map((p) => [p.name, tf.clone(p.variable)]));
    this.disposeBest();
    this.best = next;
  }

  /**
   * Puts the best evaluation's parameters back into the model (no-op without a copy). Idempotent:
   * the copy is kept, so a later checkpoint still holds it.
   */
  restoreBestParams(): void {
    const best = this.best;
    if (best === undefined) return;
    for (const p of this.model.params.list()) {
      const v = best.get(p.name);
      if (v !== undefined) p.variable.assign(v);
    }
  }

  /** The best evaluation's parameter values by name, for the checkpoint (empty without a copy). */
  bestValues(): { name: string; values: Float32Array }[] {
    const best = this.best;
    if (best === undefined) return [];
    return this.model.params
      .list()
      .filter((p) => best.has(p.name))
      .map((p) => ({ name: p.name, values: (best.get(p.name) as tf.Tensor).dataSync() as Float32Array }));
  }

  /** Replaces the best copy (checkpoint reader); `undefined` drops it. Shapes follow the model. */
  setBestValues(values: ReadonlyMap<string, Float32Array> | undefined): void {
    this.disposeBest();
    if (values === undefined) return;
    this.best = new Map(
      this.model.params.list().map((p) => {
        const v = values.get(p.name);
        if (v === undefined) throw new Error(`no best copy of ${p.name}`);
        return [p.name, tf.tensor(v, p.variable.shape, 'float32')];
      }),
    );
  }

  /** Restores loop state (after parameters and moments were restored by the checkpoint reader). */
  setLoopState(state: LoopState): void {
    // Checkpoints written before bestStep existed lack it.
    this.state = { ...structuredClone(state), bestStep: state.bestStep ?? null };
    this.rng.setState(state.rng);
  }

  private disposeBest(): void {
    this.best?.forEach((t) => t.dispose());
    this.best = undefined;
  }

  dispose(): void {
    this.disposeBest();
    this.engine.dispose();
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
