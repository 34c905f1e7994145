/**
 * The monitoring configuration in deploy/: promtool accepts the Prometheus configs and the alert
 * rules, the rules' own unit tests (rules.test.yml) pass, the Kubernetes job keeps exactly the
 * chart's metrics ports, and every PromQL expression of the rules and the Grafana dashboard is
 * valid PromQL that names only metrics the services export (common/metrics/*.ts).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../helpers/tmp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROM = join(ROOT, 'deploy', 'prometheus');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'crl-cluster.json');

const promtoolCheck = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const hasPromtool = promtoolCheck.error === undefined && promtoolCheck.status === 0;

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Every metric common/metrics registers, by name, with its type (read from the source). */
function exportedMetrics(): Map<string, string> {
  const dir = join(ROOT, 'common', 'metrics');
  const metrics = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(join(dir, file), 'utf8');
    for (const m of src.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name: '([a-zA-Z_:][\w:]*)'/g))
      metrics.set(m[2]!, m[1]!);
  }
  return metrics;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * Metric names a PromQL expression selects: identifiers that are not functions (followed by "("),
 * keywords, label names (inside {...}, by (...) and friends), durations or strings.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  return [...stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !KEYWORDS.has(name.toLowerCase()));
}

/** Names an expression may use: an exported metric, a histogram's series, or Prometheus' `up`. */
function unknownMetrics(expr: string, exported: Map<string, string>): string[] {
  return metricNames(expr).filter((name) => {
    if (name === 'up' || exported.has(name)) return false;
    const base = /^(.*)_(bucket|sum|count)$/.exec(name);
    return !(base !== null && ['Histogram', 'Summary'].includes(exported.get(base[1]!) ?? ''));
  });
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
}
const rules = (
  parse(readFileSync(join(PROM, 'rules.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }
).groups.flatMap((g) => g.rules);

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string }>;
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string }> };
};
const dashboardExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
);

describe('metric names', () => {
  const exported = exportedMetrics();

  it('finds every metric the services export, and reads PromQL the way the checks below need', () => {
    expect(exported.get('crl_trainer_steps_total')).toBe('Counter');
    expect(exported.get('crl_trainer_step_duration_seconds')).toBe('Histogram');
    expect(exported.get('crl_trials')).toBe('Gauge');
    expect(exported.size).toBeGreaterThanOrEqual(14);
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, instance) (rate(crl_x_bucket{job="a", b=~"c|d"}[$__rate_interval]))) / on () group_left foo offset 15m > bool 0.3',
      ),
    ).toEqual(['crl_x_bucket', 'foo']);
    expect(unknownMetrics('rate(crl_trials_bucket[5m])', exported)).toEqual(['crl_trials_bucket']);
    expect(unknownMetrics('rate(crl_trainer_step_duration_seconds_count[5m]) + up', exported)).toEqual([]);
  });

  it('rules.yml names only exported metrics', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'TrainerDown',
      'SyncWaitHigh',
      'TrialFailureRate',
      'StudyStalled',
    ]);
    for (const r of rules) expect(unknownMetrics(r.expr, exported), r.alert).toEqual([]);
  });

  it('the Grafana dashboard names only exported metrics', () => {
    expect(dashboardExprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of dashboardExprs) expect(unknownMetrics(expr, exported), panel).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  it('is importable: unique ids, a Prometheus datasource variable, no overlapping panels', () => {
    expect(dashboard.uid).toBe('crl-cluster');
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
    // Every panel shows data; placeholders (text panels) would promise what is not there.
    expect(dashboard.panels.filter((p) => p.type === 'text')).toEqual([]);
  });

  it('has the panels the issue asks for', () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const t of [
      'Trainers up',
      'Step time p50 / p95',
      'Samples/s per trainer and modality',
      'Sync wait, share of step time',
      'NATS bytes/s',
      'Trials, by state',
    ])
      expect(titles).toContain(t);
    const exprs = dashboardExprs.map((e) => e.expr).join('\n');
    expect(exprs).toContain(
      'histogram_quantile(0.5, sum by (le, instance) (rate(crl_trainer_step_duration_seconds_bucket',
    );
    expect(exprs).toContain(
      'histogram_quantile(0.95, sum by (le, instance) (rate(crl_trainer_step_duration_seconds_bucket',
    );
    expect(exprs).toContain('sum by (instance, modality) (rate(crl_trainer_samples_total');
  });
});

describe.skipIf(!hasPromtool)('promtool', () => {
  const dir = tempDir('crl-dashboard-');
  it('accepts prometheus.yml (local cluster, file_sd) and the rules it loads', () => {
    const r = promtool('check', 'config', 'deploy/prometheus/prometheus.yml');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(
      'SUCCESS: deploy/prometheus/prometheus.yml is valid prometheus config file syntax',
    );
    expect(r.output).toContain('SUCCESS: 4 rules found');
  });

  it('accepts prometheus-kubernetes.yml where this promtool has Kubernetes discovery', ({ skip }) => {
    const r = promtool('check', 'config', 'deploy/prometheus/prometheus-kubernetes.yml');
    // Debian builds Prometheus without Kubernetes discovery: the file is then checked below only.
    if (r.output.includes('field kubernetes_sd_configs not found'))
      skip('promtool built without kubernetes_sd');
    expect(r.status, r.output).toBe(0);
  });

  it('accepts rules.yml, and its unit tests pass (each alert fires when, and only when, it should)', () => {
    const check = promtool('check', 'rules', 'deploy/prometheus/rules.yml');
    expect(check.status, check.output).toBe(0);
    const test = promtool('test', 'rules', 'deploy/prometheus/rules.test.yml');
    expect(test.status, test.output).toBe(0);
    expect(test.output).toContain('SUCCESS');
  });

  it('parses every dashboard expression as PromQL', () => {
    // promtool has no query checker; recording rules get the same parser. Grafana's
    // $__rate_interval is substituted as Grafana would.
    const file = join(dir, 'dashboard-rules.yml');
    const records = dashboardExprs.map((e, i) => ({
      record: `crl:dashboard:expr${i}`,
      expr: e.expr.replaceAll('$__rate_interval', '1m'),
    }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: records }] }));
    const r = promtool('check', 'rules', file);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${records.length} rules found`);
  });
});

describe('prometheus-kubernetes.yml', () => {
  interface Relabel {
    source_labels?: string[];
    separator?: string;
    regex?: string;
    target_label?: string;
    replacement?: string;
    action?: string;
  }
  const config = parse(readFileSync(join(PROM, 'prometheus-kubernetes.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; kubernetes_sd_configs: unknown[]; relabel_configs: Relabel[] }>;
  };

  /** Prometheus' keep/replace relabelling (anchored regex, `;`-joined sources, $1 references). */
  function relabel(labels: Record<string, string>, steps: Relabel[]): Record<string, string> | null {
    const out = { ...labels };
    for (const s of steps) {
      const value = (s.source_labels ?? []).map((l) => out[l] ?? '').join(s.separator ?? ';');
      const match = new RegExp(`^(?:${s.regex ?? '(.*)'})$`).exec(value);
      const action = s.action ?? 'replace';
      if (action === 'keep') {
        if (match === null) return null;
      } else if (action === 'replace') {
        if (match !== null && s.target_label !== undefined)
          out[s.target_label] = (s.replacement ?? '$1').replace(
            /\$(\d)/g,
            (_, i: string) => match[Number(i)] ?? '',
          );
      } else throw new Error(`relabel action ${action} not simulated`);
    }
    return out;
  }

  const pod = (component: string, port: string): Record<string, string> => ({
    // The labels helm/crl-cluster puts on every pod (deploy-helm.test.ts checks them).
    __meta_kubernetes_pod_label_app_kubernetes_io_part_of: 'crl-cluster',
    __meta_kubernetes_pod_label_app_kubernetes_io_component: component,
    __meta_kubernetes_pod_container_port_name: port,
    __meta_kubernetes_namespace: 'crl',
    __meta_kubernetes_pod_name: `${component}-0`,
  });

  it('discovers pods and keeps exactly the metrics ports of coordinator, trainers and evaluator', () => {
    expect(config.rule_files).toEqual(['rules.yml']);
    const [job] = config.scrape_configs;
    expect(job?.kubernetes_sd_configs).toEqual([{ role: 'pod' }]);
    const steps = job!.relabel_configs;
    for (const c of ['coordinator', 'trainer', 'evaluator'])
      expect(relabel(pod(c, 'metrics'), steps)).toMatchObject({
        job: `crl-${c}`,
        namespace: 'crl',
        pod: `${c}-0`,
      });
    expect(relabel(pod('trainer', 'grpc'), steps)).toBeNull();
    expect(relabel(pod('nats', 'monitor'), steps)).toBeNull();
    expect(
      relabel(
        { ...pod('trainer', 'metrics'), __meta_kubernetes_pod_label_app_kubernetes_io_part_of: 'other' },
        steps,
      ),
    ).toBeNull();
  });
});
