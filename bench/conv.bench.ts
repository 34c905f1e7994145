/**
 * Convolution benchmark: the median wall time of one forward+backward pass (`tf.variableGrads` of the
 * reconstruction MSE, then a read of the loss) through the image encoder and decoder (28x28x1,
 * default conv settings) at batch 64 and 256: the custom conv gradient on wasm (which has no native
 * weight gradient) against tfjs's native gradient on the cpu backend, and the custom gradient on cpu
 * too (the same numbers on every backend; this says what that costs on cpu). Prints one JSON object
 * with the medians and the ratios of this same run.
 *
 *   npm run bench:conv [-- --batches 64,256] [--runs 5] [--shape 28,28,1]
 *
 * Timing is wall time on a shared machine: compare ratios within one run, not across runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../common/random.js';
import { selectBackend } from '../trainer/backend/index.js';
import { setConvGradient, type ConvGradient } from '../trainer/model/conv.js';
import { ImageDecoder } from '../trainer/model/decoders/image.js';
import { ImageEncoder } from '../trainer/model/encoders/image.js';
import { modelConfig, ParamStore, type ModalitySpec } from '../trainer/model/index.js';
import { timed, type Timing } from './timing.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const list = (name: string, dflt: string): number[] =>
  (flag(name) ?? dflt).split(',').filter(Boolean).map(Number);

const batches = list('--batches', '64,256');
const shape = list('--shape', '28,28,1');
const RUNS = Number(flag('--runs') ?? 5);
/** A step slower than this gets at most 3 timed runs: the cpu backend's native gradient at batch 256. */
const SLOW_MS = 5000;

const spec: ModalitySpec = {
  name: 'img',
  kind: 'image',
  dims: shape.reduce((a, b) => a * b, 1),
  shape,
  latents: 4,
  exogenous: 4,
};
const cfg = modelConfig([spec]);

interface Case {
  backend: 'wasm' | 'cpu';
  gradient: ConvGradient;
}
const CASES: Case[] = [
  { backend: 'wasm', gradient: 'custom' },
  { backend: 'cpu', gradient: 'native' },
  { backend: 'cpu', gradient: 'custom' },
];

async function stepTiming(c: Case, batch: number): Promise<Timing> {
  await selectBackend(c.backend);
  setConvGradient(c.gradient);
  const params = new ParamStore(new Rng('bench-conv').fork('init'));
  const encoder = new ImageEncoder(spec, cfg, params, 'enc/img');
  const decoder = new ImageDecoder(spec, cfg, params, 'dec/img');
  const rng = new Rng(`bench-conv-${batch}`);
  const values = Float32Array.from({ length: batch * spec.dims }, () => rng.uniform());
  const x = tf.tensor2d(values, [batch, spec.dims]);
  const vars = params.list().map((p) => p.variable);
  const step = (): number => {
    const { value, grads } = tf.variableGrads(() => {
      const code = encoder.apply(x).mean;
      return tf.mean(tf.square(tf.sub(decoder.apply(code), x))) as tf.Scalar;
    }, vars);
    const loss = value.dataSync()[0] as number;
    value.dispose();
    tf.dispose(grads);
    return loss;
  };
  const t0 = performance.now();
  step(); // first step: kernel set-up, first-touch allocation
  const runs = performance.now() - t0 > SLOW_MS ? Math.min(RUNS, 3) : RUNS;
  const { timing } = timed(runs, step);
  x.dispose();
  params.dispose();
  return timing;
}

const results: Record<string, Record<string, Timing>> = {};
const ratios: Record<string, Record<string, number>> = {};
for (const batch of batches) {
  const at: Record<string, Timing> = {};
  // Cases back to back per batch size, so a busy spell on the shared machine hits all of them.
  for (const c of CASES) at[`${c.backend}_${c.gradient}`] = await stepTiming(c, batch);
  results[`b${batch}`] = at;
  const ms = (key: string): number => at[key]?.median_ms ?? NaN;
  const round = (v: number): number => Math.round(v * 100) / 100;
  ratios[`b${batch}`] = {
    cpu_native_over_wasm_custom: round(ms('cpu_native') / ms('wasm_custom')),
    cpu_custom_over_cpu_native: round(ms('cpu_custom') / ms('cpu_native')),
  };
}
setConvGradient('custom');

console.log(
  JSON.stringify(
    {
      bench: 'conv',
      step: 'forward+backward, image encoder+decoder, reconstruction MSE',
      shape,
      conv_channels: cfg.convChannels,
      conv_kernel: cfg.convKernel,
      hidden: cfg.hidden,
      runs: RUNS,
      results,
      ratios,
    },
    null,
    2,
  ),
);
