/**
 * The coordinator as a process: CoordinatorService over gRPC, the real evaluator service, fake
 * trainers (real gRPC servers that stream canned progress and answer with the true latents), and
 * the /metrics endpoint.
 */
import type { ServiceError } from '@grpc/grpc-js';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOptions } from '../../common/rpc/server.js';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/server.js';
import { startEvaluatorServer, type RunningEvaluatorServer } from '../../evaluator/service/server.js';
import { generateSynthetic } from '../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../trainer/data/synthetic/spec.js';
import {
  CoordinatorServiceClient,
  type CancelTrialRequest,
  type CancelTrialResponse,
  type GetTrialRequest,
  type GetTrialResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type ListTrainersRequest,
  type ListTrainersResponse,
  type RegisterTrainerRequest,
  type RegisterTrainerResponse,
  type SubmitTrialRequest,
  type SubmitTrialResponse,
  type WatchTrialResponse,
} from '../../proto/gen/crl/v1/coordinator.js';
import { TrialState } from '../../proto/gen/crl/v1/trial.js';
import { startFakeTrainer, trialSpec, type FakeTrainer } from '../unit/coordinator/fakes.js';

function promised<T>(start: (cb: (err: ServiceError | null, res: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => start((err, res) => (err ? reject(err) : resolve(res))));
}

/** The unary calls as promises (the generated overloads defeat a generic wrapper's inference). */
function rpcOf(client: CoordinatorServiceClient) {
  return {
    submitTrial: (r: SubmitTrialRequest) => promised<SubmitTrialResponse>((cb) => client.submitTrial(r, cb)),
    getTrial: (r: GetTrialRequest) => promised<GetTrialResponse>((cb) => client.getTrial(r, cb)),
    cancelTrial: (r: CancelTrialRequest) => promised<CancelTrialResponse>((cb) => client.cancelTrial(r, cb)),
    listTrainers: (r: ListTrainersRequest) =>
      promised<ListTrainersResponse>((cb) => client.listTrainers(r, cb)),
    registerTrainer: (r: RegisterTrainerRequest) =>
      promised<RegisterTrainerResponse>((cb) => client.registerTrainer(r, cb)),
    heartbeat: (r: HeartbeatRequest) => promised<HeartbeatResponse>((cb) => client.heartbeat(r, cb)),
  };
}

async function statusOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, details: e.details };
  }
  throw new Error('the call succeeded');
}

function watchToEnd(client: CoordinatorServiceClient, trialId: string): Promise<WatchTrialResponse[]> {
  return new Promise((resolve, reject) => {
    const events: WatchTrialResponse[] = [];
    const stream = client.watchTrial({ trialId });
    stream.on('data', (e: WatchTrialResponse) => events.push(e));
    stream.on('error', reject);
    stream.on('end', () => resolve(events));
  });
}

const ROWS = 200;
const LAYOUT = { m1: { index: 1, latents: 2, exogenous: 1 }, m2: { index: 2, latents: 2, exogenous: 1 } };

describe('coordinator service', () => {
  let coordinator: RunningCoordinator;
  let evaluator: RunningEvaluatorServer;
  let client: CoordinatorServiceClient;
  let rpc: ReturnType<typeof rpcOf>;
  const trainers: FakeTrainer[] = [];
  const { latents: truth, exogenous: trueExogenous } = generateSynthetic(
    resolveSpec('c1', { seed: 3, n: ROWS }),
  );
  const trueZ = (modality: string, row: number, j: number) =>
    truth.data[row * truth.columns.length + truth.columns.indexOf(`z${modality.slice(1)}_${j + 1}`)]!;
  // The exogenous slots carry the true eta: with them the aligned MCC is complete.
  const trueEta = (modality: string, row: number) =>
    trueExogenous.data[
      row * trueExogenous.columns.length + trueExogenous.columns.indexOf(`eta${modality.slice(1)}_1`)
    ]!;

  beforeAll(async () => {
    evaluator = await startEvaluatorServer();
    coordinator = await startCoordinator({
      natsUrl: 'nats://127.0.0.1:4222',
      evaluatorAddress: evaluator.address,
      metricsPort: 0,
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 60_000,
    });
    client = new CoordinatorServiceClient(coordinator.address, credentials.createInsecure(), clientOptions());
    rpc = rpcOf(client);
    for (let i = 0; i < 2; i++)
      trainers.push(await startFakeTrainer({ layout: LAYOUT, rows: ROWS, z: trueZ, eta: trueEta }));
    trainers.push(await startFakeTrainer({ layout: LAYOUT, rows: ROWS, behaviour: 'hang' }));
  });

  afterAll(async () => {
    client?.close();
    await coordinator?.stop();
    await evaluator?.stop();
    await Promise.all(trainers.map((t) => t.stop()));
  });

  it('registers trainers, refuses a live duplicate, and sends unknown heartbeats to register again', async () => {
    for (const [i, t] of trainers.slice(0, 2).entries()) {
      const res = await rpc.registerTrainer({
        trainerId: `t${i + 1}`,
        address: t.address,
        backend: 'fake',
      });
      expect(res).toEqual({ heartbeatIntervalMs: 1000, natsUrl: 'nats://127.0.0.1:4222' });
    }
    const dup = await statusOf(
      rpc.registerTrainer({ trainerId: 't1', address: '127.0.0.1:1', backend: 'fake' }),
    );
    expect(dup.code).toBe(status.ALREADY_EXISTS);
    const missing = await statusOf(rpc.registerTrainer({ trainerId: '', address: 'x:1', backend: '' }));
    expect([missing.code, missing.details]).toEqual([
      status.INVALID_ARGUMENT,
      'trainer_id: a trainer needs an id',
    ]);
    await rpc.heartbeat({ trainerId: 't1', trialId: '' });
    expect((await statusOf(rpc.heartbeat({ trainerId: 'ghost', trialId: '' }))).code).toBe(status.NOT_FOUND);
    const list = await rpc.listTrainers({});
    expect(list.trainers.map((t) => [t.trainerId, t.trialId])).toEqual([
      ['t1', ''],
      ['t2', ''],
    ]);
  });

  it('runs a submitted trial to SUCCEEDED with real scores, streaming it to a watcher', async () => {
    const spec = trialSpec({ preset: 'c1', rows: ROWS, seed: 3 });
    const { trial } = await rpc.submitTrial({ spec, trainers: 0, replicas: 0 });
    const id = trial!.id;
    const events = await watchToEnd(client, id);
    expect(events[0]!.trial?.state).not.toBe(TrialState.TRIAL_STATE_UNSPECIFIED);
    const last = events.at(-1)!.trial!;
    expect(last.reason).toBe('');
    expect(last.state).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
    // The trainers answered with the true latents: the real evaluator must find them.
    expect(last.result?.mcc).toBeGreaterThan(0.999);
    expect(Object.keys(last.result?.mccPerModality ?? {}).length).toBeGreaterThan(0);
    // Per latent, each true latent is paired with the estimate of its own name (the trainers sent
    // the truth itself), at correlation 1, and has an R².
    const perLatent = last.result?.mccPerLatent ?? {};
    expect(Object.keys(perLatent).sort()).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    for (const [name, p] of Object.entries(perLatent)) {
      expect(p.estimate).toBe(name);
      expect(p.corr).toBeGreaterThan(0.999);
    }
    expect(Object.keys(last.result?.r2PerLatent ?? {}).sort()).toEqual(Object.keys(perLatent).sort());
    expect(last.result?.shd).toBeTypeOf('number');
    // c1's truth meets the paper's conditions, and the flag survives the wire.
    expect(last.result?.truthConditionsMet).toBe(true);
    // The trainers sent the truth in every slot: the aligned MCC says so, modality by modality (up
    // to the tilt a spare code column's chance correlation gives the rotation at 200 rows).
    expect(last.result?.mccAligned).toBeGreaterThan(0.99);
    expect(Object.keys(last.result?.mccAlignedPerModality ?? {})).toEqual(['1', '2']);
    const got = await rpc.getTrial({ trialId: id });
    expect(got.trial?.state).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
    // A watcher of an ended trial gets its snapshot and the end.
    const again = await watchToEnd(client, id);
    expect(again.map((e) => e.trial?.state)).toEqual([TrialState.TRIAL_STATE_SUCCEEDED]);

    const text = await (await fetch(coordinator.metricsUrl!)).text();
    expect(text).toMatch(/crl_trials\{state="succeeded",service="coordinator"\} 1/);
    expect(text).toMatch(/crl_trainers\{state="idle",service="coordinator"\} 2/);
  });

  it('answers NOT_FOUND and INVALID_ARGUMENT naming the field', async () => {
    const unknown = await statusOf(rpc.getTrial({ trialId: 'trial-none' }));
    expect(unknown.code).toBe(status.NOT_FOUND);
    const noId = await statusOf(rpc.cancelTrial({ trialId: '' }));
    expect([noId.code, noId.details]).toEqual([status.INVALID_ARGUMENT, 'trial_id: a trial id is required']);
    const noSpec = await statusOf(rpc.submitTrial({ spec: undefined, trainers: 0, replicas: 0 }));
    expect([noSpec.code, noSpec.details]).toEqual([status.INVALID_ARGUMENT, 'spec: a trial needs a spec']);
    const watch = await statusOf(watchToEnd(client, 'trial-none'));
    expect(watch.code).toBe(status.NOT_FOUND);
    const tooMany = await statusOf(
      rpc.submitTrial({ spec: trialSpec({ preset: 'c1' }), trainers: 2, replicas: 5 }),
    );
    expect(tooMany.code).toBe(status.FAILED_PRECONDITION);
  });

  it('cancels a hanging trial over gRPC and ends its watch stream', async () => {
    // a0 sorts before t1 and t2, so a one-trainer trial lands on the hanging fake.
    await rpc.registerTrainer({
      trainerId: 'a0',
      address: trainers[2]!.address,
      backend: 'fake',
    });
    const res = await rpc.submitTrial({
      spec: trialSpec({ preset: 'c1', rows: ROWS }),
      trainers: 1,
      replicas: 0,
    });
    expect(res.trial?.assignments.map((a) => a.trainerId)).toEqual(['a0']);
    const id = res.trial!.id;
    const watching = watchToEnd(client, id);
    const cancelled = await rpc.cancelTrial({ trialId: id });
    expect(cancelled.trial?.state).toBe(TrialState.TRIAL_STATE_CANCELLED);
    const events = await watching;
    expect(events.at(-1)!.trial?.state).toBe(TrialState.TRIAL_STATE_CANCELLED);
    await coordinator.trials.wait(id);
    const list = await rpc.listTrainers({});
    expect(list.trainers.every((t) => t.trialId === '')).toBe(true);
    expect(trainers[2]!.leaves).toEqual([id]);
  });
});

describe('coordinator liveness', () => {
  it('fails a trial whose trainer stops heartbeating, naming it', async () => {
    const evaluator = await startEvaluatorServer();
    const coordinator = await startCoordinator({
      natsUrl: 'nats://127.0.0.1:4222',
      evaluatorAddress: evaluator.address,
      heartbeatIntervalMs: 50,
      heartbeatTimeoutMs: 300,
    });
    const fakes = [
      await startFakeTrainer({ layout: LAYOUT, rows: ROWS, behaviour: 'hang' }),
      await startFakeTrainer({ layout: LAYOUT, rows: ROWS, behaviour: 'hang' }),
    ];
    try {
      coordinator.registry.register('a', fakes[0]!.address, 'fake');
      coordinator.registry.register('b', fakes[1]!.address, 'fake');
      // a keeps heartbeating, b falls silent.
      const beat = setInterval(() => coordinator.registry.heartbeat('a'), 50);
      const trial = coordinator.trials.submit({ spec: trialSpec({ preset: 'c1', rows: ROWS }) });
      const ended = await coordinator.trials.wait(trial.id);
      clearInterval(beat);
      expect(ended.state).toBe(TrialState.TRIAL_STATE_FAILED);
      expect(ended.reason).toMatch(
        /^trainer b \(127\.0\.0\.1:\d+\) left at step (0|10): no heartbeat for \d+ ms/,
      );
      expect(fakes[0]!.leaves).toEqual([trial.id]);
    } finally {
      await coordinator.stop();
      await evaluator.stop();
      await Promise.all(fakes.map((f) => f.stop()));
    }
  });
});
