/**
 * A trainer killed mid-trial: the study retries the trial on another trainer, which resumes from
 * the group's latest checkpoint instead of step 0; the retry is listed in the trial's history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient } from '../../coordinator/client.js';
import { StudyClient } from '../../coordinator/study/client.js';
import { startLocalCluster, type LocalCluster } from '../../deploy/local/cluster.js';
import { StudyState, StudyTrialOutcome } from '../../proto/gen/crl/v1/study.js';

const SPEC = {
  name: 'retry',
  dataset: { preset: 'c1', seed: 4, rows: 1000 },
  fixed: { steps: 600, batch_size: 128, eval_every: 50, 'model.hidden': 16 },
  space: [{ name: 'alpha_sp', type: 'float', low: 0.01, high: 0.1, log: true }],
  objectives: [{ metric: 'mcc', direction: 'maximize' }],
  sampler: { type: 'random', seed: 3 },
  budget: { max_trials: 1, max_concurrent: 1 },
  trainers_per_trial: 1,
  retries: 1,
};

describe('study retries', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ trainers: 2, backend: 'wasm' });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('a trainer killed mid-trial: retried elsewhere from its checkpoint, visible in the history', async () => {
    const studies = new StudyClient(cluster.address);
    const trials = new CoordinatorClient(cluster.address);
    try {
      const { id } = await studies.submit(JSON.stringify(SPEC));
      let killedAt = 0;
      let victim = '';
      for (let i = 0; i < 1200 && victim === ''; i++) {
        const s = await studies.get(id);
        const t = s.trials[0];
        const step = t?.intermediate.at(-1)?.step ?? 0;
        if (t !== undefined && step >= 150) {
          const trial = await trials.get(t.trialIds[0]!);
          victim = trial.assignments[0]!.trainerId;
          killedAt = step;
          const proc = cluster.trainers.find((p) => p.ready.id === victim)!;
          proc.child.kill('SIGKILL');
          await proc.exited;
        } else await new Promise((r) => setTimeout(r, 100));
      }
      expect(victim).not.toBe('');
      const study = await studies.watch(id, () => undefined);
      expect(study.state).toBe(StudyState.STUDY_STATE_COMPLETED);
      const t = study.trials[0]!;
      expect(t.outcome, t.reason).toBe(StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE);
      expect(t.trialIds).toHaveLength(2);
      expect(t.reason).toMatch(
        new RegExp(`attempt 1 failed: trainer ${victim} .*retrying from its latest checkpoint`),
      );
      // The retry started from a checkpoint at or after step 150, not from 0.
      const first = await trials.get(t.trialIds[0]!);
      expect(first.reason).toMatch(new RegExp(`trainer ${victim}`));
      const retry = await trials.get(t.trialIds[1]!);
      expect(retry.assignments[0]!.trainerId).not.toBe(victim);
      const curve = retry.result?.final;
      expect(curve?.step).toBe(600);
      expect(t.intermediate[0]!.step).toBeGreaterThan(150);
      expect(t.intermediate[0]!.step).toBeLessThanOrEqual(killedAt + 50);
    } finally {
      studies.close();
      trials.close();
    }
  }, 600_000);
});
