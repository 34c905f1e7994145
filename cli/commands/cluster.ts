/**
 * `crl up` starts a local cluster and keeps it up until Ctrl-C. `crl run` is the main job: it
 * trains one trial on a cluster (a fresh local one by default, or `--coordinator ADDR`), shows its
 * progress live, prints the scores and the learned inter-modal graph, and the coordinator writes
 * the run directory (result.json, latents.csv, graph.json/dot/svg, curve.csv).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { CrlError } from '../../common/errors.js';
import { latentModality } from '../../common/graph.js';
import { fromProtoGraph } from '../../common/rpc/graph.js';
import { curveRowOf } from '../../common/rpc/progress.js';
import { CoordinatorClient } from '../../coordinator/client.js';
import { stateName } from '../../coordinator/trial-state.js';
import { trialMetricsJson } from '../../coordinator/run-dir.js';
import { startLocalCluster, type LocalCluster } from '../../deploy/local/cluster.js';
import { prometheusTargets } from '../../deploy/local/prometheus-targets.js';
import { writeFileAtomically } from '../../common/output-dir.js';
import { BACKEND_CHOICES } from '../../trainer/backend/index.js';
import { PRESETS } from '../../trainer/data/synthetic/spec.js';
import { progressReporter, type ProgressSink } from '../../trainer/training/progress.js';
import { TrialState, type Trial } from '../../proto/gen/crl/v1/trial.js';
import { choiceFlag, integerFlag, numberFlag, printJson } from '../options.js';

interface RunFlags {
  preset?: string;
  data?: string;
  seed: number;
  rows?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  alphaSp?: number;
  trainers: number;
  replicas: number;
  out: string;
  coordinator?: string;
  backend: string;
  metrics?: boolean;
}

export function registerClusterCommands(program: Command): void {
  program
    .command('up')
    .description('start a local cluster (nats-server, evaluator, coordinator, trainers) until Ctrl-C')
    .option('--trainers <n>', 'trainer processes', integerFlag('--trainers', { min: 1, max: 64 }), 2)
    .option(
      '--backend <name>',
      `tfjs backend of the trainers: ${BACKEND_CHOICES.join(', ')}`,
      choiceFlag('--backend', BACKEND_CHOICES),
      'auto',
    )
    .option('--metrics', 'serve Prometheus /metrics on every service')
    .option(
      '--prometheus-targets <file>',
      'write the /metrics endpoints as Prometheus file_sd JSON (implies --metrics; see deploy/prometheus/)',
    )
    .action(
      async (f: { trainers: number; backend: string; metrics?: boolean; prometheusTargets?: string }) => {
        const cluster = await startLocalCluster({
          trainers: f.trainers,
          backend: f.backend,
          metrics: f.metrics === true || f.prometheusTargets !== undefined,
        });
        if (f.prometheusTargets !== undefined) {
          writeFileAtomically(
            f.prometheusTargets,
            `${JSON.stringify(prometheusTargets(cluster.metricsUrls), null, 2)}\n`,
          );
        }
        printJson(describe(cluster));
        process.stderr.write(`local cluster up: coordinator at ${cluster.address}; Ctrl-C stops it\n`);
        await new Promise<void>((done) => {
          process.once('SIGINT', () => done());
          process.once('SIGTERM', () => done());
        });
        process.stderr.write('stopping the local cluster\n');
        await cluster.stop();
      },
    );

  program
    .command('run')
    .description(
      'main job: train one trial on a cluster (a fresh local one unless --coordinator) and report it',
    )
    .option('--preset <name>', `synthetic preset: ${Object.keys(PRESETS).join(', ')}`)
    .option('--data <dir>', 'dataset directory (instead of --preset)')
    .option('--seed <s>', 'seed of the data (preset) and the training', integerFlag('--seed', { min: 0 }), 1)
    .option('--rows <n>', 'rows of a generated preset', integerFlag('--rows', { min: 10 }))
    .option('--steps <n>', 'training steps', integerFlag('--steps', { min: 1 }))
    .option('--batch <n>', 'batch size', integerFlag('--batch', { min: 1 }))
    .option('--lr <x>', 'learning rate', numberFlag('--lr', { min: 0, exclusiveMin: true }))
    .option('--alpha-sp <x>', 'sparsity weight', numberFlag('--alpha-sp', { min: 0 }))
    .option(
      '--trainers <n>',
      'trainers to shard the modalities over',
      integerFlag('--trainers', { min: 1, max: 64 }),
      2,
    )
    .option(
      '--replicas <n>',
      'data-parallel replicas of every modality',
      integerFlag('--replicas', { min: 1, max: 16 }),
      1,
    )
    .option('--out <dir>', 'run directory the coordinator writes (must not exist)')
    .option('--coordinator <addr>', 'use this running cluster instead of starting a local one')
    .option(
      '--backend <name>',
      `tfjs backend of local trainers: ${BACKEND_CHOICES.join(', ')}`,
      choiceFlag('--backend', BACKEND_CHOICES),
      'auto',
    )
    .option('--metrics', 'serve Prometheus /metrics on every local service')
    .action(async (f: Omit<RunFlags, 'out'> & { out?: string }) => {
      if (f.preset === undefined && f.data === undefined) f.preset = 'c1';
      const out = f.out ?? `runs/cluster-${f.preset ?? 'data'}-s${f.seed}-${Date.now().toString(36)}`;
      printJson(await runTrial({ ...f, out }, process.stderr));
    });
}

/** Runs one trial and returns what result.json holds (plus where it is). */
export async function runTrial(f: RunFlags, log: ProgressSink): Promise<Record<string, unknown>> {
  let cluster: LocalCluster | undefined;
  let address = f.coordinator;
  if (address === undefined) {
    log.write(
      `starting a local cluster: nats-server, evaluator, coordinator, ${f.trainers * f.replicas} trainer(s)\n`,
    );
    cluster = await startLocalCluster({
      trainers: f.trainers * f.replicas,
      backend: f.backend,
      metrics: f.metrics === true,
    });
    address = cluster.address;
  }
  const client = new CoordinatorClient(address);
  const stopOnSignal = (): void => {
    log.write('\ninterrupted: stopping\n');
    void cluster?.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  try {
    const submitted = await client.submit({
      spec: {
        preset: f.preset ?? '',
        dataDir: f.data === undefined ? '' : resolve(f.data),
        modalities: [],
        seed: f.seed,
        rows: f.rows ?? 0,
        steps: f.steps ?? 0,
        batchSize: f.batch ?? 0,
        lr: f.lr ?? 0,
        evalEvery: 0,
        patience: 0,
        ...(f.alphaSp === undefined ? {} : { alphaSp: f.alphaSp }),
        overridesJson: '',
        outDir: resolve(f.out),
        checkpointDir: '',
        resume: false,
      },
      trainers: f.trainers,
      replicas: f.replicas,
    });
    const placement = submitted.assignments
      .map(
        (a) =>
          `${a.trainerId}: ${a.modalities.join('+')}${a.shardCount > 1 ? ` (shard ${a.shardIndex + 1}/${a.shardCount})` : ''}`,
      )
      .join(', ');
    log.write(`trial ${submitted.id}: ${placement}\n`);
    let reporter: ReturnType<typeof progressReporter> | undefined;
    const trial = await client.watch(submitted.id, (e) => {
      const p = e.trial?.progress;
      if (p !== undefined && p.step > 0) {
        reporter ??= progressReporter(log, p.totalSteps);
        reporter.onEval(curveRowOf(p));
      }
    });
    reporter?.done();
    return report(trial, log);
  } finally {
    process.removeListener('SIGINT', stopOnSignal);
    client.close();
    await cluster?.stop();
  }
}

function report(trial: Trial, log: ProgressSink): Record<string, unknown> {
  if (trial.state !== TrialState.TRIAL_STATE_SUCCEEDED) {
    throw new CrlError(
      'ABORTED',
      `trial ${trial.id} ${stateName(trial.state).toLowerCase()}: ${trial.reason}`,
    );
  }
  const r = trial.result;
  if (r === undefined) throw new CrlError('INTERNAL', `trial ${trial.id} succeeded without a result`);
  const graph = fromProtoGraph(r.graph, 'result.graph');
  const inter = graph.edges.filter(
    ([a, b]) => latentModality(graph.nodes[a] as string) !== latentModality(graph.nodes[b] as string),
  );
  const fmt = (x: number | undefined, digits = 3): string => (x === undefined ? 'n/a' : x.toFixed(digits));
  log.write(
    `\ntrial ${trial.id} succeeded in ${r.wallS.toFixed(1)} s (${r.steps} steps, backend ${r.backend})\n` +
      `  MCC ${fmt(r.mcc)}  (${Object.entries(r.mccPerModality)
        .map(([m, v]) => `${m} ${v.toFixed(3)}`)
        .join(', ')})\n` +
      `  R2  ${fmt(r.r2)}   SHD ${r.shd ?? 'n/a'} (cdt ${r.shdCdt ?? 'n/a'})   aligned MCC ${fmt(r.mccAligned)}\n` +
      `  learned inter-modal graph: ${inter.length === 0 ? '(no edges)' : inter.map(([a, b]) => `${graph.nodes[a]} --> ${graph.nodes[b]}`).join(', ')}\n` +
      `  run directory: ${r.runDir}\n`,
  );
  return {
    trial: trial.id,
    state: stateName(trial.state),
    ...trialMetricsJson(r),
    edges: inter.map(([a, b]) => [graph.nodes[a], graph.nodes[b]]),
    steps: r.steps,
    wall_s: r.wallS,
    backend: r.backend,
    sync_wait_fraction: r.syncWaitFraction,
    run_dir: r.runDir,
  };
}

function describe(c: LocalCluster): Record<string, unknown> {
  return {
    coordinator: c.address,
    evaluator: c.evaluator.ready.address,
    nats: c.nats.url,
    trainers: c.trainers.map((t) => ({
      id: t.ready.id,
      address: t.ready.address,
      backend: t.ready.backend,
      pid: t.pid,
    })),
    metrics: c.metricsUrls,
  };
}
