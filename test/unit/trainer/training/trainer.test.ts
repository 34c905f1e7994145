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
const options = (steps: number): TrainOptions => ({
  ...DEFAULT_TRAIN,
  seed: 5,
  steps,
  batchSize: 64,
  evalEvery: 10,
  patience: 0,
});

function make(hidden = 16, steps = 40): { model: CrlModel; trainer: Trainer } {
  const model = new CrlModel(modelConfig(specs, { hidden }), 5);
  return { model, trainer: new Trainer(new LocalEngine(model, data, DEFAULT_ADAM), data.n, options(steps)) };
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

  it('standardises columns and rejects ragged or non-finite data', () => {
    const x = data.xs[0]!;
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
    while (first.trainer.state.step < stopAt) (await first.trainer.step()).dispose();
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
