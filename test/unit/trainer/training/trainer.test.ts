import type { DenseBlock } from '../../../../trainer/data/rows/block.js';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CrlError } from '../../../../common/errors.js';
import { selectBackend } from '../../../../trainer/backend/index.js';
import { generateSynthetic } from '../../../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../../../trainer/data/synthetic/spec.js';
import { CrlModel, modelConfig, type ModalitySpec } from '../../../../trainer/model/index.js';
import {
  DEFAULT_ADAM,
  LocalEngine,
  DEFAULT_TRAIN,
  prepareTrainingData,
  readCheckpoint,
  restoreCheckpoint,
  serializeCheckpoint,
  Trainer,
  type TrainOptions,
} from '../../../../trainer/training/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../helpers/tmp.js';

const spec = resolveSpec('c1', { n: 600, seed: 4 });
const ds = generateSynthetic(spec);
const data = prepareTrainingData(ds.modalities.map((m) => ({ name: m.name, observations: m.observations })));
const specs: ModalitySpec[] = ds.modalities.map((m, i) => ({
  name: m.name,
  kind: 'tabular',
  dims: spec.dims[i]!,
  latents: spec.latents[i]!,
  exogenous: spec.exogenous[i]!,
}));
const options = (steps: number, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  ...DEFAULT_TRAIN,
  seed: 5,
  steps,
  batchSize: 64,
  evalEvery: 10,
  patience: 0,
  ...extra,
});

function make(
  hidden = 16,
  steps = 40,
  extra: Partial<TrainOptions> = {},
): { model: CrlModel; trainer: Trainer } {
  const model = new CrlModel(modelConfig(specs, { hidden }), 5);
  return {
    model,
    trainer: new Trainer(new LocalEngine(model, data, DEFAULT_ADAM), data.n, options(steps, extra)),
  };
}

function paramValues(model: CrlModel): Map<string, Float32Array> {
  return new Map(model.params.list().map((p) => [p.name, p.variable.dataSync() as Float32Array]));
}

describe('training loop', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  }, 60_000);

  it('the validation loss falls on a tiny case', async () => {
    const { model, trainer } = make(16, 80);
    const before = (await trainer.validationLoss()).total;
    const summary = await trainer.run();
    expect(summary.steps).toBe(80);
    expect(summary.curve).toHaveLength(8);
    const after = summary.curve.at(-1)!.val_total;
    expect(after).toBeLessThan(before);
    trainer.dispose();
    model.dispose();
  });

  it('ends on the parameters of the best evaluation, not the last step', async () => {
    // A constant learning rate this high makes the later evaluations worse than an early one, so
    // the restored parameters differ from the last step's.
    const extra = { lr: 0.05, lrSchedule: 'constant', evalEvery: 5 } as const;
    const { model, trainer } = make(16, 60, extra);
    const atEval = new Map<number, Map<string, Float32Array>>();
    const summary = await trainer.run({ onEval: (row) => atEval.set(row.step, paramValues(model)) });
    const vals = summary.curve.map((r) => r.val_total);
    const bestIdx = vals.indexOf(Math.min(...vals));
    const bestStep = summary.curve[bestIdx]!.step;
    expect(summary.bestStep).toBe(bestStep);
    expect(trainer.state.bestStep).toBe(bestStep);
    expect(bestStep).toBeLessThan(60); // the premise: the last evaluation is not the best
    const restored = paramValues(model);
    for (const [name, v] of atEval.get(bestStep)!) expect(restored.get(name), name).toEqual(v);
    // The restored model validates exactly as it did at its evaluation.
    expect((await trainer.validationLoss()).total).toBe(trainer.state.bestVal);
    trainer.dispose();
    model.dispose();

    // restoreBest off: the last step's parameters stay.
    const last = make(16, 60, { ...extra, restoreBest: false });
    const lastEval = new Map<number, Map<string, Float32Array>>();
    const s2 = await last.trainer.run({ onEval: (row) => lastEval.set(row.step, paramValues(last.model)) });
    expect(s2.bestStep).toBe(bestStep);
    const final = paramValues(last.model);
    for (const [name, v] of lastEval.get(60)!) expect(final.get(name), name).toEqual(v);
    expect(final.get('flow/w1')).not.toEqual(atEval.get(bestStep)!.get('flow/w1'));
    last.trainer.dispose();
    last.model.dispose();
  });

  it('standardises columns and rejects ragged or non-finite data', () => {
    const x = (data.blocks[0] as DenseBlock).data;
    let mean = 0;
    for (let r = 0; r < data.n; r++) mean += x[r * spec.dims[0]!]!;
    expect(Math.abs(mean / data.n)).toBeLessThan(1e-5);
    const t = ds.modalities[0]!.observations;
    const bad = { ...t, data: Float64Array.from(t.data) };
    bad.data[7] = Number.NaN;
    expect(() => prepareTrainingData([{ name: 'm1', observations: bad }])).toThrow(/non-finite/);
    const short = { ...t, nRows: t.nRows - 1, data: t.data.slice(0, (t.nRows - 1) * t.columns.length) };
    expect(() =>
      prepareTrainingData([
        { name: 'm1', observations: t },
        { name: 'm2', observations: short },
      ]),
    ).toThrow(/rows/);
  });

  it('a checkpoint round-trips and a resumed run continues bit for bit', async () => {
    const dir = tempDir();
    // Reference: 40 steps straight.
    const ref = make(16, 40);
    await ref.trainer.run();
    const refParams = paramValues(ref.model);

    // 20 steps, checkpoint to disk, restore into a fresh trainer, 20 more.
    const first = make(16, 40);
    const stopAt = 20;
    // Through run() so that evaluations (steps 10, 20) record a best copy; a cancelled run keeps
    // its last parameters.
    await first.trainer.run({ shouldStop: () => first.trainer.state.step >= stopAt });
    const files = serializeCheckpoint(first.trainer);
    const ckptDir = join(dir, 'ckpt');
    mkdirSync(ckptDir);
    writeFileSync(join(ckptDir, 'manifest.json'), files.manifest);
    writeFileSync(join(ckptDir, 'weights.bin'), files.weights);
    const saved = paramValues(first.model);

    const second = make(16, 40);
    restoreCheckpoint(second.trainer, readCheckpoint(ckptDir));
    const restored = paramValues(second.model);
    for (const [name, v] of saved) expect(restored.get(name), name).toEqual(v);
    expect(second.trainer.state.step).toBe(stopAt);
    expect(second.trainer.adam.t).toBe(first.trainer.adam.t);
    expect(Array.from(second.trainer.adam.m.dataSync())).toEqual(Array.from(first.trainer.adam.m.dataSync()));
    // The best evaluation's parameters travel in the checkpoint (group 'best').
    const firstBest = first.trainer.bestValues();
    expect(firstBest.length).toBe(first.model.params.list().length);
    expect(second.trainer.bestValues()).toEqual(firstBest);
    expect(second.trainer.state.bestStep).toBe(first.trainer.state.bestStep);

    await second.trainer.run();
    const resumed = paramValues(second.model);
    for (const [name, v] of refParams) expect(resumed.get(name), name).toEqual(v);

    for (const r of [ref, first, second]) {
      r.trainer.dispose();
      r.model.dispose();
    }
  });

  it('refuses a checkpoint from a different architecture, naming the difference', () => {
    const a = make(16, 5);
    const files = serializeCheckpoint(a.trainer);
    const b = make(8, 5);
    const ckpt = {
      manifest: JSON.parse(files.manifest),
      values: new Float32Array(files.weights.buffer, files.weights.byteOffset, files.weights.byteLength / 4),
    };
    let err: unknown;
    try {
      restoreCheckpoint(b.trainer, ckpt);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CrlError);
    expect((err as CrlError).code).toBe('FAILED_PRECONDITION');
    expect((err as CrlError).message).toMatch(
      /different model architecture: enc\/m1\/dense0\/kernel has shape \[15, 16\], the model \[15, 8\]/,
    );
    for (const r of [a, b]) {
      r.trainer.dispose();
      r.model.dispose();
    }
  });

  it('disposes what it allocates', async () => {
    const { model, trainer } = make(16, 10);
    await trainer.run();
    const before = tf.memory().numTensors;
    await trainer.run(); // already at its step budget: nothing to do
    for (let k = 0; k < 3; k++) (await trainer.step()).dispose();
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });
});
