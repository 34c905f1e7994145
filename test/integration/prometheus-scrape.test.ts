/**
 * A real Prometheus scraping a real local cluster: deploy/prometheus/prometheus.yml (with a 1 s
 * scrape interval, nothing else changed) and a file_sd targets.json written the way a launcher
 * writes it, one target group per /metrics URL of `startLocalCluster({ metrics: true })`. After a
 * short trial through the coordinator, Prometheus's HTTP API shows every service up, non-zero
 * step counts for each trainer and the succeeded trial, and the alert rules loaded and healthy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/net.js';
import { prometheusTargets } from '../../deploy/local/prometheus-targets.js';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CoordinatorClient } from '../../coordinator/client.js';
import { startLocalCluster, type LocalCluster } from '../../deploy/local/cluster.js';
import { TrialSpec, TrialState } from '../../proto/gen/crl/v1/trial.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROM_DIR = join(ROOT, 'deploy', 'prometheus');

const version = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
const hasPrometheus = version.error === undefined && version.status === 0;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!hasPrometheus)('Prometheus scraping the local cluster', () => {
  const logs: string[] = [];
  let cluster: LocalCluster | undefined;
  let prometheus: ChildProcess | undefined;
  let api = '';
  // Created here, not in beforeAll: tempDir registers its own afterAll, which runs after the
  // one below has stopped Prometheus (hooks run in reverse order).
  const dir = tempDir('crl-prometheus-');

  async function query(q: string): Promise<Sample[]> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`);
    return body.data.result;
  }

  beforeAll(async () => {
    cluster = await startLocalCluster({
      trainers: 2,
      metrics: true,
      onLog: (service, line) => {
        logs.push(`${service}: ${line}`);
        if (logs.length > 200) logs.shift();
      },
    });
    // The shipped config, scraping every second so the test is short.
    const config = parse(readFileSync(join(PROM_DIR, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
    };
    config.global = { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    copyFileSync(join(PROM_DIR, 'rules.yml'), join(dir, 'rules.yml'));
    writeFileSync(join(dir, 'targets.json'), JSON.stringify(prometheusTargets(cluster.metricsUrls), null, 2));

    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus = child;
    const stderr: string[] = [];
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`prometheus exited (${code}):\n${stderr.join('')}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([
      exited,
      waitFor(
        'Prometheus to be ready',
        async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined),
        30_000,
      ),
    ]);
  }, 120_000);

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null && prometheus.signalCode === null) {
      const p = prometheus;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    await cluster?.stop();
  }, 60_000);

  it('scrapes every service, and shows each trainer’s steps and the succeeded trial', async () => {
    const c = cluster!;
    expect(Object.keys(c.metricsUrls).sort()).toEqual([
      'coordinator',
      'evaluator',
      'trainer t1',
      'trainer t2',
    ]);

    // All four targets discovered from targets.json and scraped successfully.
    const up = await waitFor(
      'all targets up',
      async () => {
        const r = await query('up');
        return r.length === 4 && r.every((s) => s.value[1] === '1') ? r : undefined;
      },
      30_000,
    );
    expect(up.map((s) => s.metric['job']).sort()).toEqual([
      'crl-coordinator',
      'crl-evaluator',
      'crl-trainer',
      'crl-trainer',
    ]);

    const client = new CoordinatorClient(c.address);
    try {
      const submitted = await client.submit({
        spec: TrialSpec.fromPartial({ preset: 'c1', seed: 1, rows: 1000, steps: 150, batchSize: 128 }),
        trainers: 2,
        replicas: 1,
      });
      const done = await client.watch(submitted.id, () => undefined);
      expect(done.state, `${done.reason}\n${logs.join('\n')}`).toBe(TrialState.TRIAL_STATE_SUCCEEDED);
    } finally {
      client.close();
    }

    // The final count for each trainer: the trial is over, but a trainer's latest scrape may
    // predate its last steps by up to one scrape interval.
    const steps = await waitFor(
      'crl_trainer_steps_total at 150 for both trainers',
      async () => {
        const r = await query('sum by (trainer) (crl_trainer_steps_total{job="crl-trainer"})');
        const byTrainer = Object.fromEntries(r.map((s) => [s.metric['trainer'], Number(s.value[1])]));
        return byTrainer['t1'] === 150 && byTrainer['t2'] === 150 ? byTrainer : undefined;
      },
      30_000,
    );
    // Modality-sharded: every trainer takes every step.
    expect(steps).toEqual({ t1: 150, t2: 150 });

    const succeeded = await waitFor(
      'crl_trials{state="succeeded"} >= 1',
      async () => {
        const r = await query('crl_trials{state="succeeded"}');
        return r.length === 1 && Number(r[0]!.value[1]) >= 1 ? r[0] : undefined;
      },
      30_000,
    );
    expect(succeeded.metric).toMatchObject({ job: 'crl-coordinator', service: 'coordinator' });

    // The dashboard's and the alerts' series exist with the labels they select on.
    const samples = await query('sum by (trainer, modality) (crl_trainer_samples_total{job="crl-trainer"})');
    expect(samples.length).toBeGreaterThanOrEqual(2);
    await waitFor(
      'a step-duration observation per step',
      async () => {
        const r = await query('crl_trainer_step_duration_seconds_count{job="crl-trainer"}');
        return r.length === 2 && r.every((x) => x.value[1] === '150') ? r : undefined;
      },
      15_000,
    );

    // rules.yml loaded with the config, every rule evaluated without error.
    const res = await fetch(`${api}/api/v1/rules`);
    const rules = (await res.json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(
      ['StudyStalled', 'SyncWaitHigh', 'TrainerDown', 'TrialFailureRate'].sort(),
    );
    await waitFor(
      'every rule evaluated',
      async () => {
        const r = (await (await fetch(`${api}/api/v1/rules`)).json()) as typeof rules;
        const all = r.data.groups.flatMap((g) => g.rules);
        return all.every((x) => x.health === 'ok') ? all : undefined;
      },
      15_000,
    );
  }, 180_000);
});
