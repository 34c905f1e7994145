/**
 * A study on a local cluster of 3 trainer processes (real nats-server, real gRPC): 8 trials, 3 at
 * a time, median pruning on the validation loss; every trial ends complete or pruned, the report
 * and exports agree with the study, and bad specs are refused naming the field.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudyClient } from '../../coordinator/study/client.js';
import { counts } from '../../coordinator/study/export.js';
import { startLocalCluster, type LocalCluster } from '../../deploy/local/cluster.js';
import { StudyState, StudyTrialOutcome } from '../../proto/gen/crl/v1/study.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const STEPS = 200;

const SPEC = `
name: it-study
dataset: { preset: c1, seed: 2, rows: 1000 }
fixed: { steps: ${STEPS}, batch_size: 128, eval_every: 20, model.hidden: 16 }
space:
  - { name: alpha_sp, type: float, low: 0.001, high: 0.3, log: true }
  - { name: lr, type: float, low: 0.0001, high: 0.01, log: true }
objectives:
  - { metric: mcc, direction: maximize }
  - { metric: val_loss, direction: minimize }
sampler: { type: random, seed: 7 }
pruner: { type: median, n_startup_trials: 3, n_warmup_steps: 40 }
budget: { max_trials: 8, max_concurrent: 3 }
trainers_per_trial: 1
`;

describe('studies on a local cluster', () => {
  let cluster: LocalCluster;
  let client: StudyClient;
  const dir = tempDir();

  beforeAll(async () => {
    cluster = await startLocalCluster({ trainers: 3, backend: 'wasm', metrics: true });
    client = new StudyClient(cluster.address);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('runs 8 trials 3 at a time to completion: complete or pruned, none lost, front consistent', async () => {
    const specFile = join(dir, 'study.yaml');
    writeFileSync(specFile, SPEC);
    const out = join(dir, 'out');
    const res = await runCli(['study', 'run', specFile, '--coordinator', cluster.address, '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    const printed = JSON.parse(res.stdout) as { id: string; state: string; counts: Record<string, number> };
    expect(printed.state).toBe('completed');

    const study = await client.get(printed.id);
    expect(study.state).toBe(StudyState.STUDY_STATE_COMPLETED);
    expect(study.trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const c = counts(study);
    const notDone = study.trials.filter(
      (t) =>
        t.outcome !== StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE &&
        t.outcome !== StudyTrialOutcome.STUDY_TRIAL_OUTCOME_PRUNED,
    );
    expect(c.complete + c.pruned, JSON.stringify(notDone)).toBe(8);
    expect(c.failed).toBe(0);
    expect(c.running).toBe(0);
    expect(c.complete).toBeGreaterThanOrEqual(3); // the pruner's startup trials always finish
    for (const t of study.trials) {
      expect(t.trialIds).toHaveLength(1);
      const last = t.intermediate.at(-1)?.step ?? 0;
      if (t.outcome === StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE) {
        expect(t.values).toHaveLength(2);
        expect(t.values[0]).toBeGreaterThan(0);
        expect(last).toBe(STEPS);
      } else {
        expect(t.reason).toMatch(/^pruned by median at step \d+/);
        expect(last).toBeLessThan(STEPS);
      }
    }
    // The front: no complete trial dominates a member of it.
    const complete = study.trials.filter((t) => t.outcome === StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE);
    expect(study.bestTrials.length).toBeGreaterThan(0);
    for (const n of study.bestTrials) {
      const f = study.trials[n]!;
      for (const o of complete) {
        const dominates =
          o.values[0]! >= f.values[0]! &&
          o.values[1]! <= f.values[1]! &&
          (o.values[0]! > f.values[0]! || o.values[1]! < f.values[1]!);
        expect(dominates, `trial ${o.number} dominates front member ${n}`).toBe(false);
      }
    }
    // Files agree with the study.
    const csv = readFileSync(join(out, 'trials.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(9);
    expect(csv[0]).toMatch(/^number,outcome,mcc,val_loss,param:alpha_sp,param:lr,last_step/);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/## Pareto front/);
    expect(report).toMatch(/## Learned graph of trial \d+/);
    expect(existsSync(join(out, 'study.json'))).toBe(true);

    // The coordinator still knows it: list, status and export agree.
    const list = await runCli(['study', 'list', '--coordinator', cluster.address]);
    expect(JSON.parse(list.stdout).map((s: { id: string }) => s.id)).toContain(printed.id);
    const exported = await runCli([
      'study',
      'export',
      printed.id,
      '--format',
      'csv',
      '--coordinator',
      cluster.address,
    ]);
    expect(exported.stdout.trim().split('\n')).toEqual(csv);

    // Dashboards see the best value of each objective.
    const text = await (await fetch(cluster.metricsUrls['coordinator']!)).text();
    const best = Math.max(...complete.map((t) => t.values[0]!));
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('crl_study_best_value{') &&
          l.includes(`study="${printed.id}"`) &&
          l.includes('objective="mcc"'),
      );
    expect(Number(line?.split(' ').at(-1))).toBeCloseTo(best, 10);
  }, 600_000);

  it('refuses a bad spec naming the field, before running anything', async () => {
    const bad = SPEC.replace('type: float, low: 0.001', 'type: float, low: -1');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, bad);
    const res = await runCli(['study', 'run', file, '--coordinator', cluster.address]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/bad\.yaml, space\[0\]\.low: a log-scaled param needs low > 0, got -1/);
    const unknown = SPEC.replace('model.hidden: 16', 'model.hiden: 16');
    writeFileSync(file, unknown);
    const res2 = await runCli(['study', 'run', file, '--coordinator', cluster.address]);
    expect(res2.code).toBe(2);
    expect(res2.stderr).toMatch(/hiden/);
    await expect(client.submit('{"name": 3}')).rejects.toThrow(/name/);
  });
});
