/**
 * A coordinator killed with SIGKILL mid-study and started again on the same NATS finishes the same
 * study: every trial number ends exactly once (complete or pruned), the trials it interrupted run
 * again as new attempts listed in their history, and the trainers rejoin on their own.
 */
import { freePort } from '../helpers/net.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type RunningNatsServer } from '../../common/nats-server.js';
import { StudyClient } from '../../coordinator/study/client.js';
import { ServiceProcess } from '../../deploy/local/service-process.js';
import { waitForTrainers } from '../../deploy/local/cluster.js';
import { startEvaluatorServer, type RunningEvaluatorServer } from '../../evaluator/service/server.js';
import { StudyState, StudyTrialOutcome, type Study } from '../../proto/gen/crl/v1/study.js';

const SPEC = {
  name: 'restart',
  dataset: { preset: 'c1', seed: 3, rows: 1000 },
  fixed: { steps: 400, batch_size: 128, eval_every: 50, 'model.hidden': 16 },
  space: [{ name: 'alpha_sp', type: 'float', low: 0.001, high: 0.3, log: true }],
  objectives: [{ metric: 'val_loss', direction: 'minimize' }],
  sampler: { type: 'random', seed: 11 },
  budget: { max_trials: 6, max_concurrent: 2 },
  trainers_per_trial: 1,
};

describe('a study survives its coordinator', () => {
  let nats: RunningNatsServer;
  let evaluator: RunningEvaluatorServer;
  const procs: ServiceProcess[] = [];
  let port: number;

  const startCoordinator = (): Promise<ServiceProcess> =>
    ServiceProcess.start('coordinator', [
      'coordinator',
      '--port',
      String(port),
      '--nats',
      nats.url,
      '--evaluator',
      evaluator.address,
      '--heartbeat-ms',
      '300',
      // Generous: a trainer inside a long wasm step misses heartbeats when the machine is loaded,
      // and this test is about the coordinator's restart, not about declaring trainers dead.
      '--heartbeat-timeout-ms',
      '10000',
    ]);

  beforeAll(async () => {
    nats = await startNatsServer();
    evaluator = await startEvaluatorServer();
    port = await freePort();
    procs.push(await startCoordinator());
    const address = `127.0.0.1:${port}`;
    for (const id of ['t1', 't2']) {
      procs.push(
        await ServiceProcess.start(`trainer ${id}`, [
          'trainer',
          '--coordinator',
          address,
          '--id',
          id,
          '--backend',
          'wasm',
        ]),
      );
    }
    await waitForTrainers(address, 2);
  }, 120_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    await evaluator?.stop();
    await nats?.stop();
  });

  it('SIGKILL mid-study, restart: the same study finishes, no trial lost or duplicated', async () => {
    const address = `127.0.0.1:${port}`;
    let client = new StudyClient(address);
    const { id } = await client.submit(JSON.stringify(SPEC));
    // Wait until some trials are done and others are running.
    let before: Study | undefined;
    for (let i = 0; i < 600; i++) {
      before = await client.get(id);
      const done = before.trials.filter(
        (t) => t.outcome === StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE,
      ).length;
      const running = before.trials.filter(
        (t) => t.outcome === StudyTrialOutcome.STUDY_TRIAL_OUTCOME_RUNNING,
      ).length;
      if (done >= 2 && running >= 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    client.close();
    const old = procs.shift() as ServiceProcess;
    old.child.kill('SIGKILL');
    await old.exited;
    const runningAtKill = new Set(
      (before as Study).trials
        .filter((t) => t.outcome === StudyTrialOutcome.STUDY_TRIAL_OUTCOME_RUNNING)
        .map((t) => t.number),
    );
    expect(runningAtKill.size).toBeGreaterThan(0);

    procs.unshift(await startCoordinator());
    client = new StudyClient(address);
    try {
      const resumed = await client.get(id);
      expect(resumed.name).toBe('restart');
      const study = await client.watch(id, () => undefined);
      expect(study.state, study.reason).toBe(StudyState.STUDY_STATE_COMPLETED);
      expect(study.trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
      for (const t of study.trials) {
        expect(t.outcome, `trial ${t.number}: ${t.reason}`).toBe(
          StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE,
        );
        expect(t.values).toHaveLength(1);
        if (runningAtKill.has(t.number)) {
          // Interrupted: a second attempt, visible in the history.
          expect(t.trialIds.length).toBe(2);
          expect(new Set(t.trialIds).size).toBe(2);
        } else {
          expect(t.trialIds.length).toBe(1);
        }
      }
      // Trials completed before the kill kept their results.
      for (const t of (before as Study).trials) {
        if (t.outcome !== StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE) continue;
        expect(study.trials[t.number]?.values).toEqual(t.values);
        expect(study.trials[t.number]?.paramsJson).toBe(t.paramsJson);
      }
    } finally {
      client.close();
    }
  }, 600_000);
});
