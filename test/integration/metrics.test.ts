import { spawnSync } from 'node:child_process';
import type { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  coordinatorMetrics,
  createRegistry,
  evaluatorMetrics,
  serveMetrics,
  trainerMetrics,
  type RunningMetricsServer,
} from '../../common/metrics/index.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const hasPromtool = promtool.error === undefined && promtool.status === 0;

/** `promtool check metrics` on stdin: exit status and whatever it printed (lint problems). */
function checkMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

const servers: RunningMetricsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function scrape(registry: Registry): Promise<string> {
  const server = await serveMetrics(registry);
  servers.push(server);
  expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
  const res = await fetch(server.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(registry.contentType);
  return res.text();
}

const sets: Array<[string, (r: Registry) => void]> = [
  [
    'trainer',
    (r) => {
      const m = trainerMetrics(r);
      m.steps.inc({ trial: 't1' }, 3);
      m.stepDuration.observe(0.012);
      m.samples.inc({ trial: 't1', modality: '1' }, 256);
      m.syncWait.observe({ round: 'latents' }, 0.0004);
      m.natsSentBytes.inc(1024);
      m.natsReceivedBytes.inc(2048);
      m.rejectedMessages.inc({ reason: 'stale_version' });
      m.activeTrials.set(2);
    },
  ],
  [
    'coordinator',
    (r) => {
      const m = coordinatorMetrics(r);
      m.trials.set({ state: 'running' }, 4);
      m.trainers.set({ state: 'busy' }, 2);
      m.trialDuration.observe(812);
      m.heartbeatsMissed.inc();
    },
  ],
  [
    'evaluator',
    (r) => {
      const m = evaluatorMetrics(r);
      m.requests.inc({ method: 'EvaluateLatents', code: 'OK' });
      m.requests.inc({ method: 'DiscoverGraph', code: 'INVALID_ARGUMENT' });
      m.requestDuration.observe({ method: 'EvaluateLatents' }, 0.2);
    },
  ],
];

describe('metrics endpoint', () => {
  it.for(sets)(
    'serves the %s metrics so that promtool finds no problem',
    async ([service, observe], { skip }) => {
      const registry = createRegistry(service);
      observe(registry);
      const text = await scrape(registry);
      expect(text).toContain(`service="${service}"`);
      expect(text).not.toMatch(/^nodejs_|^process_/m);
      if (!hasPromtool) skip('promtool is not installed');
      const { status, output } = checkMetrics(text);
      expect(output).toBe('');
      expect(status).toBe(0);
    },
  );

  it.skipIf(!hasPromtool)('promtool does flag a badly named metric (the check is live)', () => {
    const bad = '# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n';
    expect(checkMetrics(bad).output).toMatch(/_total/);
  });

  it('exports every trial and trainer state from the start', async () => {
    const registry = createRegistry('coordinator');
    coordinatorMetrics(registry);
    const text = await scrape(registry);
    for (const s of ['pending', 'running', 'evaluating', 'succeeded', 'failed', 'cancelled']) {
      expect(text).toContain(`crl_trials{state="${s}",service="coordinator"} 0`);
    }
    expect(text).toContain('crl_trainers{state="idle",service="coordinator"} 0');
  });

  it('answers 404 off /metrics', async () => {
    const server = await serveMetrics(createRegistry('x'));
    servers.push(server);
    const res = await fetch(`http://127.0.0.1:${server.port}/other`);
    expect(res.status).toBe(404);
    await res.text();
  });
});
