/**
 * Training-step benchmark: the median wall time of one optimizer step (forward, backward, clipped
 * Adam; `LocalEngine.step` plus a read of the loss terms, so an asynchronous backend is timed to
 * completion) of the c1 and c3 models (paper defaults: hidden 64, 2 layers, stochastic encoder,
 * aggregate KL, concrete gate) at batch 256 and 4096, on every TensorFlow.js backend that starts
 * here, against a PyTorch peer with the same architecture and loss (bench/peers/step_torch.py, one
 * thread, spawned under /usr/bin/python3). Prints one JSON object: medians per (backend, preset,
 * batch), the torch medians and the tfjs/torch ratios of this same run.
 *
 *   npm run bench:step [-- --presets c1,c3] [--batches 256,4096] [--backends wasm,cpu,webgpu,tensorflow]
 *                      [--runs 5] [--no-torch]
 *
 * On the GPU device machine (webgpu through Dawn, see DESIGN.md "Real components"): `--backends
 * webgpu`. A backend that cannot start is listed under `skipped` with its reason, not an error.
 * Timing is wall time on a shared machine: compare ratios within one run, not across runs.
 */
import { DenseBlock } from '../trainer/data/rows/block.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../common/random.js';
import { selectBackend } from '../trainer/backend/index.js';
import { PRESETS } from '../trainer/data/synthetic/spec.js';
import { CrlModel, modelConfig, type ModalitySpec } from '../trainer/model/index.js';
import { DEFAULT_ADAM, DEFAULT_TRAIN, LocalEngine } from '../trainer/training/index.js';
import { timedAsync, type Timing } from './timing.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const list = (name: string, dflt: string): string[] => (flag(name) ?? dflt).split(',').filter(Boolean);

const presets = list('--presets', 'c1,c3');
const batches = list('--batches', '256,4096').map(Number);
const backends = list('--backends', 'wasm,cpu,webgpu,tensorflow');
const RUNS = Number(flag('--runs') ?? 5);
const withTorch = !process.argv.includes('--no-torch');
/** A step slower than this (after warm-up) gets 3 timed runs: the cpu backend at batch 4096. */
const SLOW_MS = 2000;

function specsOf(preset: string): ModalitySpec[] {
  const p = PRESETS[preset];
  if (p === undefined)
    throw new Error(`unknown preset ${preset}; choose from ${Object.keys(PRESETS).join(', ')}`);
  return Array.from({ length: p.modalities }, (_, m) => ({
    name: `m${m + 1}`,
    kind: 'tabular' as const,
    dims: p.dims,
    latents: p.latents,
    exogenous: p.exogenous,
  }));
}

/** Median step time of `preset` at `batch` on the current backend. */
async function stepTiming(preset: string, batch: number): Promise<Timing> {
  const specs = specsOf(preset);
  const rng = new Rng(`bench-step-${preset}-${batch}`);
  // Standard-normal columns: the data scale the trainer's standardisation gives; the values do not
  // change the arithmetic.
  const xs = specs.map((s) => Float32Array.from({ length: batch * s.dims }, () => rng.normal()));
  const model = new CrlModel(modelConfig(specs), 1);
  const blocks = xs.map((x, m) => new DenseBlock(specs[m]?.name ?? `m${m + 1}`, x, specs[m]?.dims ?? 1));
  const engine = new LocalEngine(model, { n: batch, blocks }, DEFAULT_ADAM);
  const rows = Int32Array.from({ length: batch }, (_, i) => i);
  let step = 0;
  const once = async (): Promise<void> => {
    const terms = await engine.step(rows, { seed: 1000 + step, lr: DEFAULT_TRAIN.lr, spScale: 1, step });
    step += 1;
    await terms.data(); // waits for the device: the step is done
    terms.dispose();
  };
  try {
    const t0 = performance.now();
    await once(); // first step: kernel compilation, weight upload
    const probe = performance.now() - t0;
    const runs = probe > SLOW_MS * 2 ? Math.min(RUNS, 3) : RUNS;
    return (await timedAsync(runs, once)).timing;
  } finally {
    engine.dispose();
    model.dispose();
  }
}

interface TorchOutput {
  torch: string;
  threads: number;
  results: Record<string, { median_ms: number; min_ms: number; runs: number }>;
}

/** Runs the PyTorch peer, or says why it did not run. */
function torchPeer(): TorchOutput | { skipped: string } {
  const python = '/usr/bin/python3';
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '1' };
  if (!existsSync(python)) return { skipped: 'python3-torch not installed (no /usr/bin/python3)' };
  const probe = spawnSync(python, ['-c', 'import torch'], { env, encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: 'python3-torch not installed' };
  const spec = {
    presets: Object.fromEntries(
      presets.map((p) => [p, specsOf(p).map((s) => [s.dims, s.latents, s.exogenous])]),
    ),
    batches,
    runs: RUNS,
  };
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'step_torch.py');
  const r = spawnSync(python, [script, JSON.stringify(spec)], { env, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0)
    return { skipped: `step_torch.py failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}` };
  return JSON.parse(r.stdout) as TorchOutput;
}

const tfjs: Record<string, Record<string, Timing>> = {};
const skipped: Record<string, string> = {};
const ran: Record<string, string> = {};
for (const name of backends) {
  try {
    const info = await selectBackend(name);
    ran[name] = `${info.name} (${info.source})`;
  } catch (err) {
    skipped[name] = (err as Error).message;
    continue;
  }
  const results: Record<string, Timing> = {};
  for (const preset of presets) {
    for (const batch of batches) {
      results[`${preset}/${batch}`] = await stepTiming(preset, batch);
      console.error(
        JSON.stringify({ backend: tf.getBackend(), preset, batch, ...results[`${preset}/${batch}`] }),
      );
    }
  }
  tfjs[tf.getBackend()] = results;
}

const torch = withTorch ? torchPeer() : { skipped: '--no-torch' };
const ratios: Record<string, Record<string, number>> = {};
if ('results' in torch) {
  for (const [backend, results] of Object.entries(tfjs)) {
    ratios[backend] = Object.fromEntries(
      Object.entries(results).flatMap(([key, t]) => {
        const peer = torch.results[key];
        return peer === undefined ? [] : [[key, Math.round((t.median_ms / peer.median_ms) * 100) / 100]];
      }),
    );
  }
}

console.log(
  JSON.stringify(
    {
      what: 'median ms of one training step (forward + backward + clipped Adam), paper-default model',
      presets,
      batches,
      backends_ran: ran,
      skipped,
      webgpu: 'webgpu' in tfjs ? 'ran' : 'no adapter',
      device:
        'webgpu' in tfjs
          ? 'webgpu ran on this machine'
          : 'the H200 device machine was not available this session, so webgpu numbers are absent',
      tfjs,
      torch,
      ratio_tfjs_over_torch: ratios,
      cores: (await import('node:os')).cpus().length,
      load_avg: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100),
    },
    null,
    2,
  ),
);
