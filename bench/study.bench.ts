/**
 * Studies on a local cluster: (1) a 3 x 3 grid over alpha_Sp and the learning rate on c1, without
 * pruning and with ASHA, comparing the best MCC and the training steps spent; (2) TPE against
 * random search on the same budget over several seeds; (3) scheduling overhead per trial, from
 * SubmitTrial to the first evaluation (a trial evaluating after step 1). Prints one JSON object.
 *
 *   npm run bench:study [-- --trainers 2 --steps 600 --seeds 2 --trials 6 --min-resource 50 --only-grid]
 */
import { CoordinatorClient } from '../coordinator/client.js';
import { StudyClient } from '../coordinator/study/client.js';
import { startLocalCluster } from '../deploy/local/cluster.js';
import { StudyTrialOutcome, type Study } from '../proto/gen/crl/v1/study.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const TRAINERS = flag('trainers', 2);
const STEPS = flag('steps', 600);
const SEEDS = flag('seeds', 2);
const TRIALS = flag('trials', 6);
const ROWS = flag('rows', 2000);
const MIN_RESOURCE = flag('min-resource', 50);
const ONLY_GRID = process.argv.includes('--only-grid');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

function summary(study: Study): {
  best_mcc: number;
  steps: number;
  complete: number;
  pruned: number;
  failed: number;
} {
  let best = Number.NEGATIVE_INFINITY;
  let steps = 0;
  const n = { complete: 0, pruned: 0, failed: 0 };
  for (const t of study.trials) {
    steps += t.intermediate.at(-1)?.step ?? 0;
    if (t.outcome === StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE) {
      n.complete += 1;
      best = Math.max(best, t.values[0] ?? Number.NEGATIVE_INFINITY);
    } else if (t.outcome === StudyTrialOutcome.STUDY_TRIAL_OUTCOME_PRUNED) n.pruned += 1;
    else n.failed += 1;
  }
  return { best_mcc: round(best), steps, ...n };
}

async function main(): Promise<void> {
  const cluster = await startLocalCluster({ trainers: TRAINERS, backend: 'wasm' });
  const studies = new StudyClient(cluster.address);
  const trials = new CoordinatorClient(cluster.address);
  const run = async (spec: Record<string, unknown>): Promise<Study> => {
    const s = await studies.submit(JSON.stringify(spec));
    return studies.watch(s.id, () => undefined);
  };
  const dataset = { preset: 'c1', seed: 1, rows: ROWS };
  const fixed = { steps: STEPS, batch_size: 128, eval_every: 50 };
  const objectives = [{ metric: 'mcc', direction: 'maximize' }];
  try {
    // (1) grid: no pruning vs ASHA (pruning on the validation loss: MCC exists only at the end).
    const grid = {
      name: 'grid',
      dataset,
      fixed,
      space: [
        { name: 'alpha_sp', type: 'categorical', choices: [0.003, 0.01, 0.03] },
        { name: 'lr', type: 'categorical', choices: [0.001, 0.002, 0.004] },
      ],
      objectives,
      sampler: { type: 'grid', seed: 0 },
      budget: { max_trials: 9, max_concurrent: TRAINERS },
    };
    const t0 = performance.now();
    const full = summary(await run({ ...grid, name: 'grid-full', pruner: { type: 'none' } }));
    const t1 = performance.now();
    const asha = summary(
      await run({
        ...grid,
        name: 'grid-asha',
        pruner: { type: 'asha', min_resource: MIN_RESOURCE, reduction_factor: 3 },
      }),
    );
    const t2 = performance.now();

    // (2) TPE vs random on the same budget.
    const space = [
      { name: 'alpha_sp', type: 'float', low: 0.001, high: 0.1, log: true },
      { name: 'lr', type: 'float', low: 0.0005, high: 0.005, log: true },
    ];
    const samplers: Record<string, number[]> = { tpe: [], random: [] };
    for (let seed = 1; seed <= (ONLY_GRID ? 0 : SEEDS); seed++) {
      for (const type of ['tpe', 'random'] as const) {
        const s = await run({
          name: `${type}-${seed}`,
          dataset,
          fixed: { ...fixed, steps: Math.round(STEPS / 2) },
          space,
          objectives,
          sampler:
            type === 'tpe'
              ? { type, seed, n_startup_trials: Math.max(2, Math.floor(TRIALS / 3)) }
              : { type, seed },
          budget: { max_trials: TRIALS, max_concurrent: TRAINERS },
        });
        samplers[type]?.push(summary(s).best_mcc);
      }
    }

    // (3) scheduling overhead: SubmitTrial until the first evaluation (after one step).
    const overhead: number[] = [];
    for (let i = 0; i < (ONLY_GRID ? 0 : 5); i++) {
      const started = performance.now();
      let first = 0;
      const submitted = await trials.submit({
        spec: {
          preset: 'c1',
          dataDir: '',
          modalities: [],
          seed: 1,
          rows: ROWS,
          steps: 2,
          batchSize: 128,
          lr: 0,
          evalEvery: 1,
          patience: 0,
          overridesJson: '',
          outDir: '',
          checkpointDir: '',
          resume: false,
        },
        trainers: 1,
        replicas: 1,
      });
      await trials.watch(submitted.id, (e) => {
        if (first === 0 && (e.trial?.progress?.step ?? 0) >= 1) first = performance.now();
      });
      overhead.push(first - started);
    }

    console.log(
      JSON.stringify(
        {
          benchmark: 'study',
          preset: 'c1',
          rows: ROWS,
          trainers: TRAINERS,
          grid: {
            trials: 9,
            steps_per_trial: STEPS,
            asha_min_resource: MIN_RESOURCE,
            no_pruning: { ...full, wall_s: round((t1 - t0) / 1000, 1) },
            asha: { ...asha, wall_s: round((t2 - t1) / 1000, 1) },
            asha_steps_fraction: round(asha.steps / full.steps),
            best_mcc_gap: round(full.best_mcc - asha.best_mcc),
            target: 'gap <= 0.02 using <= 40% of the steps',
            within_target: full.best_mcc - asha.best_mcc <= 0.02 && asha.steps <= 0.4 * full.steps,
          },
          samplers: {
            trials: TRIALS,
            steps_per_trial: Math.round(STEPS / 2),
            seeds: SEEDS,
            tpe_best_mcc: samplers['tpe'],
            random_best_mcc: samplers['random'],
            tpe_median: round(median(samplers['tpe'] ?? [])),
            random_median: round(median(samplers['random'] ?? [])),
          },
          scheduling: {
            submit_to_first_evaluation_ms_median: round(median(overhead), 1),
            runs_ms: overhead.map((x) => round(x, 1)),
            note: 'includes the trainer loading c1 and one training step',
          },
        },
        null,
        2,
      ),
    );
  } finally {
    studies.close();
    trials.close();
    await cluster.stop();
  }
}

await main();
