/**
 * The cluster end to end: a real nats-server, the evaluator, the coordinator and trainer child
 * processes (`crl serve ...`) talking gRPC on loopback and syncing over NATS, as `crl up` starts
 * them. Training is kept small (c1, 2000 rows, a few hundred steps): these tests check the
 * plumbing and the failure handling, not the model.
 */
import { credentials, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNumericCsv } from '../../common/csv.js';
import { readGraph } from '../../common/graph.js';
import { alignedMccOf } from '../../evaluator/metrics/aligned-mcc.js';
import { generateSynthetic } from '../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../trainer/data/synthetic/spec.js';
import { clientOptions } from '../../common/rpc/server.js';
import { CoordinatorClient } from '../../coordinator/client.js';
import { startLocalCluster, type LocalCluster } from '../../deploy/local/cluster.js';
import {
  CoordinatorServiceClient,
  type RegisterTrainerResponse,
  type TrainerInfo,
} from '../../proto/gen/crl/v1/coordinator.js';
import {
  TrainerServiceClient,
  type JoinTrialRequest,
  type LeaveTrialResponse,
} from '../../proto/gen/crl/v1/trainer.js';
import { TrialSpec, TrialState, type Trial } from '../../proto/gen/crl/v1/trial.js';
import { parseIdLines } from '../../trainer/data/cohort/join.js';
import { writePhenotypeCohort } from '../../trainer/data/phenotype/write.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const ROWS = 2000;
const LATENTS = ['z1_1', 'z1_2', 'z2_1', 'z2_2'];
const TEST_TIMEOUT = 180_000;
const CLUSTER_TIMEOUT = 120_000;

function spec(over: Partial<TrialSpec>): TrialSpec {
  return TrialSpec.fromPartial({ preset: 'c1', seed: 1, rows: ROWS, steps: 200, batchSize: 128, ...over });
}

/** Starts a cluster whose services' stderr is kept, so a failing assertion can show it. */
async function startCluster(trainers: number, logs: string[]): Promise<LocalCluster> {
  return startLocalCluster({
    trainers,
    metrics: true,
    onLog: (service, line) => {
      logs.push(`${service}: ${line}`);
      if (logs.length > 200) logs.shift();
    },
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once the coordinator lists exactly `ids`, all idle (a trial's trainers are released after it ends). */
function waitForIdle(client: CoordinatorClient, ids: string[], timeoutMs = 30_000): Promise<TrainerInfo[]> {
  return waitFor(
    `trainers ${ids.join(', ')} to be listed and idle`,
    async () => {
      const list = await client.trainers();
      const ok =
        list.map((t) => t.trainerId).join(',') === ids.join(',') && list.every((t) => t.trialId === '');
      return ok ? list : undefined;
    },
    timeoutMs,
  );
}

/** The gRPC status a unary call or a server stream ends with (throws if it succeeds). */
function statusOf(start: (cb: (err: ServiceError | null) => void) => unknown): Promise<ServiceError> {
  return new Promise((resolve, reject) =>
    start((err) => (err === null ? reject(new Error('the call succeeded')) : resolve(err))),
  );
}

function streamStatusOf(stream: ClientReadableStream<unknown>): Promise<ServiceError> {
  return new Promise((resolve, reject) => {
    stream.on('data', () => undefined);
    stream.on('error', (err: ServiceError) => resolve(err));
    stream.on('end', () => reject(new Error('the stream ended without an error')));
  });
}

/** Prometheus text format: the samples of `name` whose labels include `labels`. */
function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) out.push(Number(m[3]));
  }
  return out;
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return res.text();
}

function expectRunDirectory(dir: string): Record<string, unknown> {
  for (const f of ['result.json', 'latents.csv', 'graph.json', 'graph.dot', 'graph.svg', 'curve.csv'])
    expect(existsSync(join(dir, f)), f).toBe(true);
  const latents = readNumericCsv(join(dir, 'latents.csv'));
  expect(latents.columns).toEqual(LATENTS);
  expect(latents.nRows).toBe(ROWS);
  expect(latents.data.every(Number.isFinite)).toBe(true);
  expect(readGraph(join(dir, 'graph.json')).nodes).toEqual(LATENTS);
  expect(readFileSync(join(dir, 'graph.dot'), 'utf8')).toMatch(/digraph/);
  expect(readFileSync(join(dir, 'graph.svg'), 'utf8')).toMatch(/<svg[\s>]/);
  const curve = readNumericCsv(join(dir, 'curve.csv'));
  expect(curve.nRows).toBeGreaterThan(0);
  return JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<string, unknown>;
}

describe('a local cluster of 2 trainers', () => {
  const root = tempDir('crl-cluster-');
  const logs: string[] = [];
  let cluster: LocalCluster;
  let client: CoordinatorClient;
  let mainTrial = '';

  beforeAll(async () => {
    cluster = await startCluster(2, logs);
    client = new CoordinatorClient(cluster.address);
  }, CLUSTER_TIMEOUT);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  }, 60_000);

  it(
    'runs the main job (crl run --coordinator) with one modality per trainer and writes the run directory',
    async () => {
      const out = join(root, 'main');
      const r = await runCli([
        'run',
        '--preset',
        'c1',
        '--rows',
        String(ROWS),
        '--steps',
        '200',
        '--batch',
        '128',
        '--trainers',
        '2',
        '--coordinator',
        cluster.address,
        '--out',
        out,
      ]);
      expect(r.code, `${r.stderr}\n${logs.join('\n')}`).toBe(0);
      const printed = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(printed).toMatchObject({ state: 'SUCCEEDED', steps: 200, run_dir: out });
      const result = expectRunDirectory(out);
      expect(printed['mcc']).toBe(result['mcc']);
      const mcc = result['mcc'] as number;
      expect(typeof mcc).toBe('number');
      expect(mcc).toBeGreaterThan(0);
      expect(mcc).toBeLessThanOrEqual(1);
      expect(result).toMatchObject({ state: 'succeeded', steps: 200 });
      // The trainers' exogenous slots came back over gRPC into exogenous.csv, and the aligned MCC
      // the coordinator reported is the one these files give against the preset's truth.
      const exogenous = readNumericCsv(join(out, 'exogenous.csv'));
      expect(exogenous.columns).toEqual(['eta1_1', 'eta2_1']);
      expect(exogenous.nRows).toBe(ROWS);
      const truth = generateSynthetic(resolveSpec('c1', { seed: 1, n: ROWS }));
      const again = alignedMccOf(
        truth.latents,
        [
          { name: 'm1', latents: ['z1_1', 'z1_2'], exogenous: ['eta1_1'] },
          { name: 'm2', latents: ['z2_1', 'z2_2'], exogenous: ['eta2_1'] },
        ],
        readNumericCsv(join(out, 'latents.csv')),
        exogenous,
      );
      expect(result['mcc_aligned']).toBeCloseTo(again.mcc_aligned as number, 4);
      expect(printed['mcc_aligned']).toBe(result['mcc_aligned']);
      // Per latent: the pairs of each modality average to that modality's MCC.
      const perLatent = result['mcc_per_latent'] as Record<string, { estimate: string; corr: number }>;
      expect(printed['mcc_per_latent']).toEqual(perLatent);
      for (const [m, score] of Object.entries(result['mcc_per_modality'] as Record<string, number>)) {
        const mine = Object.entries(perLatent).filter(([k]) => k.startsWith(`z${m}_`));
        expect(mine.length).toBe(2);
        expect(mine.reduce((a, [, p]) => a + Math.abs(p.corr), 0) / 2).toBeCloseTo(score, 10);
      }

      mainTrial = printed['trial'] as string;
      const trial = await client.get(mainTrial);
      expect(trial.state).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
      expect(trial.result?.mcc).toBe(mcc);
      const ids = trial.assignments.map((a) => a.trainerId);
      expect(new Set(ids).size).toBe(2);
      expect(ids.every((id) => ['t1', 't2'].includes(id))).toBe(true);
      expect(trial.assignments.map((a) => a.modalities)).toEqual([['m1'], ['m2']]);
      expect(trial.assignments.every((a) => a.shardCount === 1 && a.shardIndex === 0)).toBe(true);
      expect(result['assignments']).toEqual(
        trial.assignments.map((a) => ({
          trainer_id: a.trainerId,
          modalities: a.modalities,
          shard_index: 0,
          shard_count: 1,
        })),
      );
      // Both trainers report their share of the sync wait.
      expect(Object.keys(trial.result?.syncWaitFraction ?? {}).sort()).toEqual(['t1', 't2']);
      expect(r.stderr).toMatch(/trial trial-\w+: t1: m1, t2: m2/);
    },
    TEST_TIMEOUT,
  );

  it(
    'trains a keyed cohort with images, series and missing modalities, and names the participants',
    async () => {
      const data = join(root, 'cohort');
      await writePhenotypeCohort(data, { n: 160, seed: 2, imageSize: 16, nights: 1, missing: 0.1 });
      const out = join(root, 'cohort-run');
      const r = await runCli([
        'run',
        '--data',
        data,
        '--steps',
        '20',
        '--batch',
        '32',
        '--trainers',
        '2',
        '--coordinator',
        cluster.address,
        '--out',
        out,
      ]);
      expect(r.code, `${r.stderr}\n${logs.join('\n')}`).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ state: 'SUCCEEDED', steps: 20 });
      const ids = parseIdLines(readFileSync(join(data, 'participants.txt'), 'utf8'), 'participants.txt');
      const sleep = new Set(parseIdLines(readFileSync(join(data, 'sleep-ids.txt'), 'utf8'), 'sleep-ids.txt'));
      const lines = readFileSync(join(out, 'latents.csv'), 'utf8').trim().split('\n');
      const header = (lines[0] as string).split(',');
      expect(header[0]).toBe('participant_id');
      const sleepCol = header.findIndex((h) => h.startsWith('z3_'));
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(ids);
      lines.slice(1).forEach((l, i) => {
        expect(l.split(',')[sleepCol] === '', ids[i]).toBe(!sleep.has(ids[i] as string));
      });
      const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { mcc: number };
      expect(result.mcc).toBeGreaterThan(0);
    },
    TEST_TIMEOUT,
  );

  it('serves /metrics on every service, counting the main job', async () => {
    expect(mainTrial).not.toBe('');
    expect(Object.keys(cluster.metricsUrls).sort()).toEqual([
      'coordinator',
      'evaluator',
      'trainer t1',
      'trainer t2',
    ]);
    for (const name of ['trainer t1', 'trainer t2']) {
      const text = await fetchText(cluster.metricsUrls[name] as string);
      const steps = samples(text, 'crl_trainer_steps_total', { trial: mainTrial });
      expect(steps, name).toEqual([200]);
      const sent = samples(text, 'crl_nats_sent_bytes_total');
      expect(sent.length, name).toBe(1);
      expect(sent[0], name).toBeGreaterThan(0);
      expect(samples(text, 'crl_nats_received_bytes_total')[0], name).toBeGreaterThan(0);
    }
    const coordinator = await fetchText(cluster.metricsUrls['coordinator'] as string);
    expect(samples(coordinator, 'crl_trials', { state: 'succeeded' })[0]).toBeGreaterThanOrEqual(1);
    expect(samples(coordinator, 'crl_trials', { state: 'failed' })).toEqual([0]);
    // The trial is over: its trainers are released (the gauge follows the registry).
    await waitForIdle(client, ['t1', 't2']);
    const after = await fetchText(cluster.metricsUrls['coordinator'] as string);
    expect(samples(after, 'crl_trainers', { state: 'idle' })).toEqual([2]);
    expect(samples(after, 'crl_trainers', { state: 'busy' })).toEqual([0]);
    const evaluator = await fetchText(cluster.metricsUrls['evaluator'] as string);
    expect(evaluator).toMatch(/^# HELP /m);
  });

  it(
    'trains data-parallel: one trainer per replica, two row shards, complete latents',
    async () => {
      await waitForIdle(client, ['t1', 't2']);
      const out = join(root, 'replicas');
      const submitted = await client.submit({ spec: spec({ outDir: out }), trainers: 1, replicas: 2 });
      expect(
        submitted.assignments.map((a) => ({ ...a })),
        'one trainer per shard, each with every modality',
      ).toEqual([
        { trainerId: 't1', modalities: ['m1', 'm2'], shardIndex: 0, shardCount: 2 },
        { trainerId: 't2', modalities: ['m1', 'm2'], shardIndex: 1, shardCount: 2 },
      ]);
      const trial = await client.watch(submitted.id, () => undefined);
      expect(trial.state, `${trial.reason}\n${logs.join('\n')}`).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
      // The final state shows only once the trainers are free: the next trial can start at once.
      expect((await client.trainers()).map((t) => t.trialId)).toEqual(['', '']);
      const result = expectRunDirectory(out);
      expect(result['mcc']).toBe(trial.result?.mcc);
      expect(result['mcc']).toBeGreaterThan(0);
      // The shards hold different rows: both halves of latents.csv carry encodings, not one copy.
      const latents = readNumericCsv(join(out, 'latents.csv'));
      const half = (ROWS / 2) * LATENTS.length;
      expect(latents.data.slice(0, half).some((v) => v !== 0)).toBe(true);
      expect(latents.data.slice(half).some((v) => v !== 0)).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it('refuses bad requests over gRPC with the right status and stays up', async () => {
    await waitForIdle(client, ['t1', 't2']);
    const refusal = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => {
          throw new Error('the call succeeded');
        },
        (e: unknown) => e as Error & { code: string },
      );
      return { code: err.code, message: err.message };
    };

    const unknownModality = await refusal(
      client.submit({ spec: spec({ modalities: ['m1', 'm9'] }), trainers: 0, replicas: 0 }),
    );
    expect(unknownModality.code).toBe('INVALID_ARGUMENT');
    expect(unknownModality.message).toMatch(/spec\.modalities\[1\].*"m9"/);

    const missingDir = join(root, 'no-such-dataset');
    const noData = await refusal(
      client.submit({ spec: spec({ preset: '', rows: 0, dataDir: missingDir }), trainers: 0, replicas: 0 }),
    );
    expect(noData.code).toBe('NOT_FOUND');
    expect(noData.message).toContain(missingDir);

    const noSpec = await refusal(client.submit({ spec: undefined, trainers: 1, replicas: 0 }));
    expect(noSpec.code).toBe('INVALID_ARGUMENT');
    expect(noSpec.message).toMatch(/spec/);

    const coordinator = new CoordinatorServiceClient(
      cluster.address,
      credentials.createInsecure(),
      clientOptions(),
    );
    const trainer = new TrainerServiceClient(
      cluster.trainers[0]!.ready.address,
      credentials.createInsecure(),
      clientOptions(),
    );
    try {
      const dup = await statusOf((cb) =>
        coordinator.registerTrainer({ trainerId: 't1', address: '127.0.0.1:1', backend: 'fake' }, cb),
      );
      expect(dup.code).toBe(status.ALREADY_EXISTS);
      expect(dup.details).toMatch(/trainer t1 is registered and alive/);

      const join0: JoinTrialRequest = {
        trialId: 'trial-probe',
        spec: spec({}),
        assignment: { trainerId: 't1', modalities: ['m1'], shardIndex: 0, shardCount: 1 },
        group: [{ trainerId: 't1', modalities: ['m1'], shardIndex: 0, shardCount: 1 }],
        natsUrl: cluster.nats.url,
      };
      const cases: [Partial<JoinTrialRequest>, RegExp][] = [
        [{ trialId: '' }, /trial_id/],
        [{ spec: undefined }, /spec/],
        [{ assignment: undefined }, /assignment/],
        [{ natsUrl: '' }, /nats_url/],
        [{ group: [] }, /group/],
      ];
      for (const [over, field] of cases) {
        const err = await streamStatusOf(trainer.joinTrial({ ...join0, ...over }));
        expect(err.code, JSON.stringify(over)).toBe(status.INVALID_ARGUMENT);
        expect(err.details).toMatch(field);
      }

      const latents = await streamStatusOf(trainer.getLatents({ trialId: 'trial-unknown' }));
      expect(latents.code).toBe(status.NOT_FOUND);
      expect(latents.details).toMatch(/trial-unknown/);

      // Both processes still answer, and nothing was left claimed.
      const left = await new Promise<LeaveTrialResponse>((resolve, reject) =>
        trainer.leaveTrial({ trialId: 'trial-unknown' }, (e, r) => (e ? reject(e) : resolve(r))),
      );
      expect(left).toEqual({});
      const reg = await new Promise<RegisterTrainerResponse>((resolve, reject) =>
        coordinator.registerTrainer(
          { trainerId: 't-probe', address: '127.0.0.1:1', backend: 'fake' },
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
      expect(reg.natsUrl).toBe(cluster.nats.url);
    } finally {
      coordinator.close();
      trainer.close();
    }
    // The probe registration never heartbeats: it is declared dead and forgotten, the real ones stay.
    await waitForIdle(client, ['t1', 't2'], 20_000);
    expect(cluster.trainers.every((t) => t.child.exitCode === null && t.child.signalCode === null)).toBe(
      true,
    );
  }, 60_000);
});

describe('a trainer killed mid-trial', () => {
  const logs: string[] = [];
  let cluster: LocalCluster;
  let client: CoordinatorClient;

  beforeAll(async () => {
    cluster = await startCluster(2, logs);
    client = new CoordinatorClient(cluster.address);
  }, CLUSTER_TIMEOUT);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  }, 60_000);

  it(
    'fails the trial naming the trainer, forgets it, and runs the next trial on the survivor',
    async () => {
      const submitted = await client.submit({
        spec: spec({ steps: 3000, evalEvery: 10 }),
        trainers: 2,
        replicas: 0,
      });
      expect(submitted.assignments.map((a) => a.trainerId)).toEqual(['t1', 't2']);
      const victimId = submitted.assignments[1]!.trainerId;
      const survivorId = submitted.assignments[0]!.trainerId;
      const victim = cluster.trainers.find((t) => t.ready.id === victimId)!;
      expect(victim).toBeDefined();

      let killedAt = 0;
      let stepAtKill = 0;
      const ended = client.watch(submitted.id, (e) => {
        const p = e.trial?.progress;
        if (
          killedAt === 0 &&
          e.trial?.state === TrialState.TRIAL_STATE_RUNNING &&
          p !== undefined &&
          p.step > 0
        ) {
          stepAtKill = p.step;
          killedAt = Date.now();
          process.kill(victim.pid, 'SIGKILL');
        }
      });
      const trial = await Promise.race([
        ended,
        new Promise<Trial>((_, reject) =>
          setTimeout(() => reject(new Error(`the trial did not end:\n${logs.join('\n')}`)), 120_000),
        ),
      ]);
      expect(killedAt, 'killed after the first progress').toBeGreaterThan(0);
      expect(stepAtKill).toBeGreaterThan(0);
      expect(Date.now() - killedAt, 'the trial ends within 15 s of the kill').toBeLessThan(15_000);
      expect(trial.state, trial.reason).toBe(TrialState.TRIAL_STATE_FAILED);
      expect(trial.reason).toContain(`trainer ${victimId} (${victim.ready.address}) left at step `);
      expect(trial.result).toBeUndefined();
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });

      // The coordinator answers, forgets the dead trainer after the heartbeat timeout and frees the survivor.
      await waitForIdle(client, [survivorId], 30_000);
      expect((await client.get(submitted.id)).state).toBe(TrialState.TRIAL_STATE_FAILED);
      const coordinatorMetrics = await fetchText(cluster.metricsUrls['coordinator'] as string);
      expect(samples(coordinatorMetrics, 'crl_trials', { state: 'failed' })).toEqual([1]);
      expect(samples(coordinatorMetrics, 'crl_trainer_heartbeats_missed_total')[0]).toBeGreaterThanOrEqual(1);
      // The survivor stopped training the failed trial (it does not sit in a sync round for its dead peer).
      const survivorUrl = cluster.metricsUrls[`trainer ${survivorId}`] as string;
      await waitFor('the survivor to drop the failed trial', async () => {
        const text = await fetchText(survivorUrl);
        return samples(text, 'crl_trainer_active_trials')[0] === 0 ? text : undefined;
      });
      const survivorSteps = samples(await fetchText(survivorUrl), 'crl_trainer_steps_total', {
        trial: submitted.id,
      });
      expect(survivorSteps[0]).toBeGreaterThan(0);
      expect(survivorSteps[0]).toBeLessThan(3000);

      // Two trainers are no longer there; one is, and it trains a whole trial, scored by the evaluator.
      await expect(client.submit({ spec: spec({}), trainers: 2, replicas: 0 })).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION',
      });
      const next = await client.submit({ spec: spec({ steps: 100 }), trainers: 1, replicas: 0 });
      expect(next.assignments).toEqual([
        { trainerId: survivorId, modalities: ['m1', 'm2'], shardIndex: 0, shardCount: 1 },
      ]);
      const done = await client.watch(next.id, () => undefined);
      expect(done.state, `${done.reason}\n${logs.join('\n')}`).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
      expect(done.result?.steps).toBe(100);
      expect(done.result?.mcc).toBeGreaterThan(0);
    },
    TEST_TIMEOUT,
  );
});
