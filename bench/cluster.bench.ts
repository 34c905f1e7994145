/**
 * Step throughput of one process against a trainer group sharding the modalities over separate
 * trainer processes (a local cluster: real nats-server, real gRPC), on the same preset, seed and
 * settings, back to back. Reports steps/s medians and their ratio, the fraction of each trainer's
 * training time spent waiting on sync, and NATS bytes per step (from the trainers' /metrics).
 *
 *   npm run bench:cluster [-- --preset c3 --trainers 2 --batch 256 --steps 300 --repeats 3]
 */
import { startLocalCluster } from '../deploy/local/cluster.js';
import { CoordinatorClient } from '../coordinator/client.js';
import { selectBackend } from '../trainer/backend/index.js';
import { loadTrainingInput } from '../trainer/data/input.js';
import { CrlModel } from '../trainer/model/index.js';
import { trialSettings } from '../trainer/service/settings.js';
import { LocalEngine, Trainer } from '../trainer/training/index.js';
import { TrialState, type TrialSpec } from '../proto/gen/crl/v1/trial.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const PRESET = flag('preset', 'c3');
const TRAINERS = Number(flag('trainers', '2'));
const REPLICAS = Number(flag('replicas', '1'));
const BATCH = Number(flag('batch', '256'));
const STEPS = Number(flag('steps', '300'));
const ROWS = Number(flag('rows', '10000'));
const REPEATS = Number(flag('repeats', '3'));
const BACKEND = flag('backend', 'wasm');

const spec: TrialSpec = {
  preset: PRESET,
  dataDir: '',
  modalities: [],
  seed: 1,
  rows: ROWS,
  steps: STEPS,
  batchSize: BATCH,
  lr: 0,
  // One evaluation, at the end: the benchmark times training steps.
  evalEvery: STEPS,
  patience: 0,
  overridesJson: '',
  outDir: '',
  checkpointDir: '',
  resume: false,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function singleProcess(): Promise<number> {
  const input = await loadTrainingInput({ preset: PRESET, seed: spec.seed, n: ROWS });
  const { config, options } = trialSettings(spec, input.specs);
  const data = { n: input.n, blocks: input.blocks };
  const model = new CrlModel(config, options.seed);
  const trainer = new Trainer(new LocalEngine(model, data, options.adam), data.n, options);
  try {
    const s = await trainer.run();
    return s.steps / s.wallS;
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

async function scrapeSum(urls: string[], metric: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    for (const line of text.split('\n')) {
      if (line.startsWith(metric)) total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}

async function main(): Promise<void> {
  await selectBackend(BACKEND);
  const single: number[] = [];
  await singleProcess(); // warm-up: wasm compilation, JIT
  for (let r = 0; r < REPEATS; r++) single.push(await singleProcess());

  const cluster = await startLocalCluster({ trainers: TRAINERS * REPLICAS, metrics: true, backend: BACKEND });
  const client = new CoordinatorClient(cluster.address);
  const group: number[] = [];
  const waitFractions: number[] = [];
  const bytesPerStep: number[] = [];
  try {
    const trainerUrls = cluster.trainers.map((t) => t.ready.metrics as string);
    for (let r = 0; r <= REPEATS; r++) {
      const before = await scrapeSum(trainerUrls, 'crl_nats_sent_bytes_total');
      const submitted = await client.submit({ spec, trainers: TRAINERS, replicas: REPLICAS });
      const trial = await client.watch(submitted.id, () => undefined);
      if (trial.state !== TrialState.TRIAL_STATE_SUCCEEDED || trial.result === undefined) {
        throw new Error(`trial ${trial.id} ended ${trial.state}: ${trial.reason}`);
      }
      const after = await scrapeSum(trainerUrls, 'crl_nats_sent_bytes_total');
      if (r === 0) continue; // warm-up
      group.push(trial.result.steps / trial.result.wallS);
      waitFractions.push(...Object.values(trial.result.syncWaitFraction));
      bytesPerStep.push((after - before) / trial.result.steps);
    }
  } finally {
    client.close();
    await cluster.stop();
  }
  const singleMedian = median(single);
  const groupMedian = median(group);
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  console.log(
    JSON.stringify(
      {
        benchmark: 'cluster',
        preset: PRESET,
        rows: ROWS,
        batch: BATCH,
        steps: STEPS,
        trainers: TRAINERS,
        replicas: REPLICAS,
        backend: BACKEND,
        repeats: REPEATS,
        single_process: { steps_per_s_median: round(singleMedian, 1), runs: single.map((x) => round(x, 1)) },
        cluster: {
          steps_per_s_median: round(groupMedian, 1),
          runs: group.map((x) => round(x, 1)),
          sync_wait_fraction_median: round(median(waitFractions)),
          nats_bytes_per_step_median: Math.round(median(bytesPerStep)),
        },
        ratio_cluster_over_single: round(groupMedian / singleMedian),
        target_sync_wait_fraction: 0.15,
        within_target: median(waitFractions) < 0.15,
        cores: (await import('node:os')).availableParallelism(),
      },
      null,
      2,
    ),
  );
}

await main();
