/**
 * `crl analyze` end to end: a run directory whose latents come from a known linear SEM together
 * with age, sex and grip strength, the tabular file keyed by participant ID and shuffled, so the
 * designed edges come back only if rows are joined by ID and not by position.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNumber } from '../../common/csv.js';
import { readGraph, type Edge, type Graph } from '../../common/graph.js';
import { Rng } from '../../common/random.js';
import { shd } from '../../evaluator/metrics/index.js';
import { cpdagOfDag } from '../../evaluator/pc/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const root = tempDir('crl-analyze-');
const path = (...p: string[]): string => join(root, ...p);

// Designed DAG: age -> z1_1 -> z2_1 -> grip <- sex -> z1_2; z2_2 stands alone.
const LATENTS = ['z1_1', 'z1_2', 'z2_1', 'z2_2'];
const TABULAR = ['age', 'sex', 'grip'];
const NODES = [...LATENTS, ...TABULAR];
const DESIGN: [string, string][] = [
  ['age', 'z1_1'],
  ['z1_1', 'z2_1'],
  ['z2_1', 'grip'],
  ['sex', 'grip'],
  ['sex', 'z1_2'],
];
const dag: Graph = {
  nodes: NODES,
  edges: DESIGN.map(([a, b]): Edge => [NODES.indexOf(a), NODES.indexOf(b), '-->']),
};

const N = 2000;
const rng = new Rng('crl-analyze-e2e');
const rows = Array.from({ length: N }, (_, i) => {
  const age = rng.normal();
  const sex = rng.uniform() < 0.5 ? 0 : 1;
  const z1_1 = 0.8 * age + rng.normal();
  const z1_2 = 1.2 * sex + rng.normal();
  const z2_1 = 0.7 * z1_1 + rng.normal();
  const z2_2 = rng.normal();
  const grip = 0.6 * z2_1 + 1.5 * sex + rng.normal();
  return { id: `p${String(i + 1).padStart(5, '0')}`, z1_1, z1_2, z2_1, z2_2, age, sex, grip };
});
const csv = (header: string[], lines: (string | number)[][]): string =>
  [header, ...lines.map((l) => l.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))]
    .map((l) => l.join(','))
    .join('\n') + '\n';

// The run: latents in dataset order, 4 participants more than the tabular file knows.
const run = path('run');
mkdirSync(run);
const extraLatents = Array.from({ length: 4 }, (_, k) => [`x${k}`, ...LATENTS.map(() => rng.normal())]);
writeFileSync(
  join(run, 'latents.csv'),
  csv(
    ['participant_id', ...LATENTS],
    [...rows.map((r) => [r.id, r.z1_1, r.z1_2, r.z2_1, r.z2_2]), ...extraLatents],
  ),
);
writeFileSync(
  join(run, 'result.json'),
  JSON.stringify({
    mcc: null,
    data: { source: 'cohort', n: N, modalities: [{ name: 'FRight' }, { name: 'Sleep' }] },
  }),
);
// The tabular file: shuffled, 3 participants the run does not have.
const order = rng.permutation(N);
const tabularRows: (string | number)[][] = Array.from(order, (i) => {
  const r = rows[i]!;
  return [r.age, r.id, r.sex, r.grip];
});
tabularRows.splice(100, 0, [50, 'y1', 0, 1], [51, 'y2', 1, 2], [52, 'y3', 0, 3]);
writeFileSync(path('extra.csv'), csv(['age', 'participant_id', 'sex', 'grip'], tabularRows));
writeFileSync(
  path('bk.json'),
  JSON.stringify({
    forbidden: [
      ['*', 'age'],
      ['*', 'sex'],
    ],
  }),
);

describe('crl analyze', () => {
  it('recovers the designed edges around the latents from an ID join of shuffled rows', async () => {
    const out = path('out');
    const r = await runCli([
      'analyze',
      '--run',
      run,
      '--tabular',
      path('extra.csv'),
      '--background',
      path('bk.json'),
      '--alpha',
      '0.01',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      participants: N,
      join: { mode: 'id', id_column: 'participant_id', dropped: { latents: 4, tabular: 3 } },
      nodes: 7,
      latents: 4,
      tabular: 3,
      alpha: 0.01,
      test: 'fisherz',
    });

    const g = readGraph(join(out, 'graph.json'));
    expect(g.nodes).toEqual(NODES);
    const has = (a: string, b: string, mark: '-->' | '---'): boolean =>
      g.edges.some(([i, j, m]) => m === mark && g.nodes[i] === a && g.nodes[j] === b);
    // Background knowledge orients age -> z1_1; the collider at grip and Meek's rules do the rest.
    expect(has('age', 'z1_1', '-->')).toBe(true);
    expect(has('sex', 'z1_2', '-->')).toBe(true);
    expect(has('z2_1', 'grip', '-->')).toBe(true);
    expect(has('sex', 'grip', '-->')).toBe(true);
    const s = shd(cpdagOfDag(dag), g);
    expect(s.shd_skeleton).toBe(0);
    // With age and sex parentless every designed edge is orientable: the DAG itself comes back.
    expect(shd(dag, g).shd).toBeLessThanOrEqual(1);
    expect(summary.edges).toMatchObject({ total: g.edges.length, touching_latents: 4 });

    const analysis = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8'));
    const z11 = analysis.latents.find((l: { name: string }) => l.name === 'z1_1');
    expect(z11.group).toBe('FRight');
    expect(z11.edges).toContainEqual({
      kind: 'in',
      other: 'age',
      other_group: 'tabular',
      other_is_latent: false,
    });
    expect(z11.edges.map((e: { other: string }) => e.other).sort()).toEqual(['age', 'z2_1']);
    const z22 = analysis.latents.find((l: { name: string }) => l.name === 'z2_2');
    expect(z22).toMatchObject({ group: 'Sleep', edges: [] });

    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(
      /\*\*Summary:\*\* 2000 participants used, alpha = 0\.01, test = fisherz, \d+ edges/,
    );
    expect(report).toContain('- `age` (tabular) → `z1_1`');
    expect(report).toContain('- `z2_1` → `grip` (tabular)');
    expect(report).toContain('### `z2_1` (Sleep)');
    expect(report).toMatch(/4 rows of `.*latents\.csv` without a match left out/);

    const dot = readFileSync(join(out, 'graph.dot'), 'utf8');
    expect(dot).toContain('"age" -> "z1_1";');
    expect(dot).toContain('"z2_1" -> "grip";');
    expect(dot).toMatch(/"z1_1" \[fillcolor="(#[0-9a-f]{6})", tooltip="FRight"\]/);
    const colour = (v: string): string | undefined =>
      new RegExp(`"${v}" \\[fillcolor="([^"]+)"`).exec(dot)?.[1];
    expect(colour('z1_1')).toBe(colour('z1_2'));
    expect(colour('z1_1')).not.toBe(colour('z2_1'));
    expect(colour('age')).toBe('#d9d9d9');
    expect(colour('grip')).toBe(colour('age'));
    const svg = readFileSync(join(out, 'graph.svg'), 'utf8');
    expect(svg).toMatch(/^<\?xml|<svg/);
    for (const v of ['age', 'z1_1', 'grip', 'FRight', 'Sleep']) expect(svg).toContain(`>${v}</text>`);
    expect(svg).toContain('<title>age&#45;&gt;z1_1</title>');
  });

  it('without the IDs the shuffled rows no longer line up, and the latent-tabular edges vanish', async () => {
    // Same files, the ID column dropped from both: a positional join pairs the wrong people.
    const strip = (text: string, col: number): string =>
      text
        .trimEnd()
        .split('\n')
        .map((l) =>
          l
            .split(',')
            .filter((_, j) => j !== col)
            .join(','),
        )
        .join('\n') + '\n';
    const bare = path('bare-run');
    mkdirSync(bare);
    const latentLines = readFileSync(join(run, 'latents.csv'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(bare, 'latents.csv'), strip(latentLines.slice(0, N + 1).join('\n'), 0));
    const tabLines = readFileSync(path('extra.csv'), 'utf8').trimEnd().split('\n');
    tabLines.splice(101, 3);
    writeFileSync(path('bare.csv'), strip(tabLines.join('\n'), 1));
    const out = path('out-bare');
    const r = await runCli([
      'analyze',
      '--run',
      bare,
      '--tabular',
      path('bare.csv'),
      '--alpha',
      '0.01',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).join).toMatchObject({ mode: 'position', id_column: null });
    const g = readGraph(join(out, 'graph.json'));
    const adjacent = (a: string, b: string): boolean =>
      g.edges.some(
        ([i, j]) =>
          new Set([g.nodes[i], g.nodes[j]]).size === 2 &&
          [a, b].includes(g.nodes[i]!) &&
          [a, b].includes(g.nodes[j]!),
      );
    expect(adjacent('z1_1', 'z2_1')).toBe(true);
    expect(adjacent('age', 'z1_1')).toBe(false);
    expect(adjacent('z2_1', 'grip')).toBe(false);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('Joined by row position');
    expect(report).toContain('### `z1_1` (modality 1)');
  });

  it('refuses to overwrite its output without --force, leaving no partial output on failure', async () => {
    const args = ['analyze', '--run', run, '--tabular', path('extra.csv'), '--out', path('out')];
    const again = await runCli(args);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists and is not empty \(pass --force/);
    writeFileSync(path('bad-bk.json'), JSON.stringify({ forbidden: [['*', 'height']] }));
    const bad = await runCli([...args.slice(0, -1), path('out-bad'), '--background', path('bad-bk.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad-bk\.json, forbidden\[0\]\[1\]: unknown variable "height"/);
    expect(existsSync(path('out-bad'))).toBe(false);
    const forced = await runCli([...args, '--force', '--max-cond', '1']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).max_cond).toBe(1);
    expect(readFileSync(path('out', 'report.md'), 'utf8')).toContain('Largest conditioning set: 1');
  });
});
