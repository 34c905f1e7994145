import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { status } from '@grpc/grpc-js';
import { CrlError } from '../../../common/errors.js';
import {
  coordinatorMetrics,
  createRegistry,
  type CoordinatorMetrics,
} from '../../../common/metrics/index.js';
import { decodeTensor } from '../../../common/rpc/tensor.js';
import { TrainerRegistry } from '../../../coordinator/registry.js';
import { TrialManager, type TrialEvent } from '../../../coordinator/trials.js';
import { generateSynthetic } from '../../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../../trainer/data/synthetic/spec.js';
import { writeSyntheticDataset } from '../../../trainer/data/synthetic/write.js';
import { TrialState, type TrialSpec } from '../../../proto/gen/crl/v1/trial.js';
import { tempDir } from '../../helpers/tmp.js';
import {
  FAKE_SCORES,
  fakeZ,
  startFakeEvaluator,
  startFakeTrainer,
  trialSpec,
  type FakeBehaviour,
  type FakeEvaluator,
  type FakeTrainer,
  type FakeTrainerOptions,
} from './fakes.js';

const LAYOUT_C3 = {
  m1: { index: 1, latents: 2, exogenous: 1 },
  m2: { index: 2, latents: 2, exogenous: 1 },
  m3: { index: 3, latents: 2, exogenous: 1 },
  m4: { index: 4, latents: 2, exogenous: 1 },
};

interface Cluster {
  trials: TrialManager;
  registry: TrainerRegistry;
  trainers: FakeTrainer[];
  evaluator: FakeEvaluator;
  clock: { t: number; now(): number };
  metrics: CoordinatorMetrics;
}

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((stop) => stop()));
});

async function cluster(
  behaviours: FakeBehaviour[],
  opts: Partial<FakeTrainerOptions> & { rows: number },
): Promise<Cluster> {
  const evaluator = await startFakeEvaluator();
  const trainers = await Promise.all(
    behaviours.map((behaviour) => startFakeTrainer({ layout: LAYOUT_C3, ...opts, behaviour })),
  );
  const clock = { t: 1_000_000, now: () => clock.t };
  const registry = new TrainerRegistry({ heartbeatTimeoutMs: 5000, clock, timer: false });
  trainers.forEach((t, i) => registry.register(`t${i + 1}`, t.address, 'fake'));
  const metrics = coordinatorMetrics(createRegistry('coordinator'));
  const trials = new TrialManager({
    registry,
    natsUrl: 'nats://127.0.0.1:4222',
    evaluatorAddress: evaluator.address,
    metrics,
    leaveTimeoutMs: 2000,
  });
  running.push(async () => {
    await trials.close();
    registry.close();
    await Promise.all([evaluator, ...trainers].map((s) => s.stop()));
  });
  return { trials, registry, trainers, evaluator, clock, metrics };
}

function watchAll(trials: TrialManager, id: string): TrialEvent[] {
  const events: TrialEvent[] = [];
  trials.watch(id, (e) => events.push(e));
  return events;
}

async function gaugeValue(metrics: CoordinatorMetrics, state: string): Promise<number | undefined> {
  const { values } = await metrics.trials.get();
  return values.find((v) => v.labels.state === state)?.value;
}

describe('TrialManager against fake trainers over gRPC', () => {
  const root = tempDir('crl-trials-');

  it('runs a trial to SUCCEEDED: progress, latents in layout order, truth, scores, run directory', async () => {
    const c = await cluster(['ok', 'ok'], { rows: 150, chunkRows: 40 });
    const outDir = join(root, 'run-ok');
    const spec = trialSpec({ preset: 'c3', rows: 150, seed: 7, steps: 30, outDir });
    const submitted = c.trials.submit({ spec, trainers: 2 });
    expect(submitted.state).toBe(TrialState.TRIAL_STATE_RUNNING);
    expect(c.registry.counts()).toEqual({ idle: 0, busy: 2 });
    const events = watchAll(c.trials, submitted.id);
    const trial = await c.trials.wait(submitted.id);
    expect(trial.reason).toBe('');
    expect(trial.state).toBe(TrialState.TRIAL_STATE_SUCCEEDED);

    // Watchers saw the snapshot, the lead's progress, EVALUATING and the end, in order.
    const states = events.map((e) => e.trial.state);
    expect(states[0]).toBe(TrialState.TRIAL_STATE_RUNNING);
    expect(states.at(-1)).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
    expect(states).toContain(TrialState.TRIAL_STATE_EVALUATING);
    expect(events.map((e) => e.message)).toEqual(
      expect.arrayContaining(['step 10/30', 'step 20/30', 'step 30/30']),
    );

    // Every trainer joined with the whole group and the NATS URL.
    const join0 = c.trainers[0]!.joins[0]!;
    expect(join0.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(join0.group).toEqual(trial.assignments);
    expect(join0.spec).toEqual(spec);
    expect(trial.assignments.flatMap((a) => a.modalities).sort()).toEqual(['m1', 'm2', 'm3', 'm4']);

    // The evaluator got the latents in layout order and the regenerated truth.
    const req = c.evaluator.requests[0]!;
    expect(req.estimatedNames).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2', 'z3_1', 'z3_2', 'z4_1', 'z4_2']);
    expect(req.truthNames).toEqual(req.estimatedNames);
    expect(req.seed).toBe(7);
    const est = decodeTensor(req.estimated, 'estimated');
    expect(est.shape).toEqual([150, 8]);
    expect(est.values[149 * 8 + 5]).toBeCloseTo(fakeZ(3, 149, 1), 5);
    const truth = generateSynthetic(resolveSpec('c3', { seed: 7, n: 150 })).latents;
    const t = decodeTensor(req.truth, 'truth');
    expect(t.values[3 * 8 + 2]).toBeCloseTo(truth.data[3 * 8 + 2]!, 5);
    expect(req.trueGraph?.nodes).toEqual(req.estimatedNames);

    const r = trial.result!;
    expect([r.mcc, r.r2, r.shd, r.shdCdt, r.mccPerModality]).toEqual([
      FAKE_SCORES.mcc,
      FAKE_SCORES.r2,
      FAKE_SCORES.shd,
      FAKE_SCORES.shdCdt,
      FAKE_SCORES.mccPerModality,
    ]);
    expect([r.steps, r.wallS, r.backend, r.final?.step]).toEqual([30, 2, 'fake', 30]);
    expect(r.syncWaitFraction).toEqual({ t1: 0.25, t2: 0.25 });
    expect(r.graph?.nodes).toHaveLength(8);
    expect(r.runDir).toBe(outDir);
    expect(readFileSync(join(outDir, 'latents.csv'), 'utf8').split('\n')[0]).toBe(
      req.estimatedNames.join(','),
    );
    expect(JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')).trial_id).toBe(trial.id);

    // Trainers were told to leave and are idle again; the gauges followed.
    expect(c.trainers.map((f) => f.leaves)).toEqual([[trial.id], [trial.id]]);
    expect(c.registry.counts()).toEqual({ idle: 2, busy: 0 });
    expect(await gaugeValue(c.metrics, 'succeeded')).toBe(1);
    expect(await gaugeValue(c.metrics, 'running')).toBe(0);
  });

  it('assembles row shards of replicas and restricts the truth to a modality subset', async () => {
    const c = await cluster(['ok', 'ok', 'ok', 'ok'], { rows: 101, chunkRows: 17 });
    const spec = trialSpec({ preset: 'c3', rows: 101, modalities: ['m3', 'm1'] });
    const { id } = c.trials.submit({ spec, trainers: 2, replicas: 2 });
    const trial = await c.trials.wait(id);
    expect(trial.reason).toBe('');
    expect(trial.state).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
    expect(trial.assignments.map((a) => [a.trainerId, a.modalities, a.shardIndex, a.shardCount])).toEqual([
      ['t1', ['m3'], 0, 2],
      ['t2', ['m1'], 0, 2],
      ['t3', ['m3'], 1, 2],
      ['t4', ['m1'], 1, 2],
    ]);
    const req = c.evaluator.requests[0]!;
    expect(req.estimatedNames).toEqual(['z3_1', 'z3_2', 'z1_1', 'z1_2']);
    const est = decodeTensor(req.estimated, 'estimated');
    // Row 100 came from shard 1 (rows 51..100); column 2 is z1_1.
    expect(est.values[100 * 4 + 2]).toBeCloseTo(fakeZ(1, 100, 0), 5);
    const full = generateSynthetic(resolveSpec('c3', { seed: 0, n: 101 }));
    expect(req.trueGraph?.nodes).toEqual(['z3_1', 'z3_2', 'z1_1', 'z1_2']);
    const kept = full.graph.edges.filter(([a, b]) =>
      [a, b].every((i) => ['z1_1', 'z1_2', 'z3_1', 'z3_2'].includes(full.graph.nodes[i]!)),
    );
    expect(req.trueGraph?.edges).toHaveLength(kept.length);
    expect(Object.keys(trial.result!.syncWaitFraction).sort()).toEqual(['t1', 't2', 't3', 't4']);
  });

  it('fails the trial when a trainer stream errors, naming it, its address and its last step', async () => {
    const c = await cluster(['ok', 'error'], { rows: 50, delayMs: 20 });
    const { id } = c.trials.submit({ spec: trialSpec({ preset: 'c3', rows: 50 }), trainers: 2 });
    const trial = await c.trials.wait(id);
    expect(trial.state).toBe(TrialState.TRIAL_STATE_FAILED);
    const addr = c.trainers[1]!.address.replace(/\./g, '\\.');
    expect(trial.reason).toMatch(
      new RegExp(`^trainer t2 \\(${addr}\\) left at step 20: 14 UNAVAILABLE: lost the NATS connection`),
    );
    expect(c.trainers[0]!.leaves).toEqual([id]);
    expect(c.registry.counts()).toEqual({ idle: 2, busy: 0 });
    expect(c.evaluator.requests).toHaveLength(0);
    expect(await gaugeValue(c.metrics, 'failed')).toBe(1);
  });

  it('fails the trial when a stream ends without a summary', async () => {
    const c = await cluster(['end-early', 'ok'], { rows: 50 });
    const { id } = c.trials.submit({ spec: trialSpec({ preset: 'c1', rows: 50 }) });
    const trial = await c.trials.wait(id);
    expect(trial.state).toBe(TrialState.TRIAL_STATE_FAILED);
    expect(trial.reason).toMatch(
      /^trainer t1 \(127\.0\.0\.1:\d+\) left at step 20: its stream ended without a summary/,
    );
  });

  it('cancels a trial whose trainers hang: CANCELLED, LeaveTrial to all, trainers idle', async () => {
    const c = await cluster(['hang', 'hang'], { rows: 50 });
    const { id } = c.trials.submit({ spec: trialSpec({ preset: 'c1', rows: 50 }) });
    await vi.waitFor(() => expect(c.trials.get(id).progress?.step).toBe(10));
    const cancelled = await c.trials.cancel(id);
    expect(cancelled.state).toBe(TrialState.TRIAL_STATE_CANCELLED);
    // Over means over: by the time the final state shows, the trainers are free again.
    expect(c.registry.counts()).toEqual({ idle: 2, busy: 0 });
    expect(cancelled.reason).toBe('cancelled by request');
    const trial = await c.trials.wait(id);
    expect(trial.state).toBe(TrialState.TRIAL_STATE_CANCELLED);
    expect(c.trainers.map((t) => t.leaves)).toEqual([[id], [id]]);
    expect(c.registry.counts()).toEqual({ idle: 2, busy: 0 });
    // Cancelling again changes nothing.
    expect((await c.trials.cancel(id)).state).toBe(TrialState.TRIAL_STATE_CANCELLED);
  });

  it('fails the trial when the registry declares one of its trainers dead', async () => {
    const c = await cluster(['hang', 'hang'], { rows: 50 });
    const { id } = c.trials.submit({ spec: trialSpec({ preset: 'c1', rows: 50 }) });
    await vi.waitFor(() => expect(c.trials.get(id).progress?.step).toBe(10));
    await new Promise((resolve) => setTimeout(resolve, 30));
    c.clock.t += 4000;
    c.registry.heartbeat('t1');
    c.clock.t += 2000;
    c.registry.checkLiveness();
    const trial = await c.trials.wait(id);
    expect(trial.state).toBe(TrialState.TRIAL_STATE_FAILED);
    expect(trial.reason).toMatch(
      /^trainer t2 \(127\.0\.0\.1:\d+\) left at step 10: no heartbeat for 6000 ms/,
    );
    // The dead trainer is not called; the live one is released.
    expect(c.trainers[0]!.leaves).toEqual([id]);
    expect(c.trainers[1]!.leaves).toEqual([]);
    expect(c.registry.list().map((t) => [t.id, t.trialId])).toEqual([['t1', undefined]]);
  });

  it('fails when a row arrives twice or never', async () => {
    const dup = await cluster(['ok', 'ok'], { rows: 30, duplicateRow: true });
    const a = await dup.trials.wait(dup.trials.submit({ spec: trialSpec({ preset: 'c1', rows: 30 }) }).id);
    expect(a.state).toBe(TrialState.TRIAL_STATE_FAILED);
    expect(a.reason).toMatch(
      /collecting latents: row 0 of modality m[12] arrived twice \(again from trainer t[12] /,
    );

    const gap = await cluster(['ok', 'ok'], { rows: 30, dropLastRow: true });
    const b = await gap.trials.wait(gap.trials.submit({ spec: trialSpec({ preset: 'c1', rows: 30 }) }).id);
    expect(b.state).toBe(TrialState.TRIAL_STATE_FAILED);
    expect(b.reason).toMatch(/1 of 30 rows of modality m1 never arrived \(first: row 29; owners t1\)/);
  });

  it('fails naming the evaluator when scoring fails', async () => {
    const c = await cluster(['ok', 'ok'], { rows: 30 });
    c.evaluator.failWith = status.INTERNAL;
    const trial = await c.trials.wait(c.trials.submit({ spec: trialSpec({ preset: 'c1', rows: 30 }) }).id);
    expect(trial.state).toBe(TrialState.TRIAL_STATE_FAILED);
    expect(trial.reason).toMatch(/^evaluator \(127\.0\.0\.1:\d+\): 13 INTERNAL: evaluator broke/);
    expect(c.registry.counts().idle).toBe(2);
  });

  it('succeeds without metrics on data without truth', async () => {
    const dir = join(root, 'no-truth');
    writeSyntheticDataset(generateSynthetic(resolveSpec('c1', { n: 30 })), dir, { name: 'c1' });
    const manifest = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
    delete manifest.truth;
    for (const m of manifest.modalities) delete m.truth;
    writeFileSync(join(dir, 'dataset.json'), JSON.stringify(manifest));
    const c = await cluster(['ok', 'ok'], { rows: 30 });
    const trial = await c.trials.wait(c.trials.submit({ spec: trialSpec({ dataDir: dir }) }).id);
    expect(trial.reason).toBe('');
    expect(trial.state).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
    expect(trial.result?.mcc).toBeUndefined();
    expect(c.evaluator.requests).toHaveLength(0);
  });

  it('refuses a trial it cannot place, creating nothing', async () => {
    const c = await cluster(['ok'], { rows: 30 });
    const spec: TrialSpec = trialSpec({ preset: 'c1', outDir: join(root, 'never') });
    let err: unknown;
    try {
      c.trials.submit({ spec, trainers: 2, replicas: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CrlError);
    expect((err as CrlError).code).toBe('FAILED_PRECONDITION');
    expect((err as CrlError).message).toMatch(/needs 4 idle trainers .* 1 is idle/);
    expect(c.trials.list()).toEqual([]);
    expect(c.registry.counts()).toEqual({ idle: 1, busy: 0 });
    expect(existsSync(join(root, 'never'))).toBe(false);
    expect(() => c.trials.get('trial-nope')).toThrow(/no trial trial-nope/);
  });
});
