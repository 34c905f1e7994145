import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCsv } from '../../../../common/csv.js';
import { formatGraph, parseGraph } from '../../../../common/graph.js';
import { fromColumns } from '../../../../common/matrix.js';
import { Rng } from '../../../../common/random.js';
import { randomLinearSem, sampleLinearSem } from '../../../../evaluator/pc/simulate.js';
import { graphOf } from './helpers.js';
import { runCli } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tmp.js';

const dir = tempDir('crl-pc-');
const path = (name: string): string => join(dir, name);

const v = ['age', 'sex', 'z1_1', 'z1_2', 'z2_1'];
const dag = graphOf(v, 'age->z1_1, sex->z1_1, z1_1->z2_1, z1_2->z2_1');
const rng = new Rng('cli');
const data = sampleLinearSem(randomLinearSem(dag, rng, { positive: true }), 3000, rng);
writeFileSync(path('data.csv'), formatCsv(data));
writeFileSync(path('truth.json'), formatGraph(dag));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli(args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('crl pc', () => {
  it('writes the CPDAG with the CSV header names, DOT and SVG, and prints a summary with SHD', async () => {
    const r = await run(
      'pc',
      '--data',
      path('data.csv'),
      '--out',
      path('g.json'),
      '--dot',
      path('g.dot'),
      '--svg',
      path('g.svg'),
      '--truth',
      path('truth.json'),
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({
      nodes: 5,
      edges: 4,
      directed: 4,
      undirected: 0,
      test: 'fisherz',
      alpha: 0.05,
    });
    expect(summary.ci_tests).toBeGreaterThan(0);
    expect(summary.seconds).toBeGreaterThanOrEqual(0);
    expect(summary.shd).toMatchObject({ shd: 0, shd_vs_truth_cpdag: 0 });
    const g = parseGraph(JSON.parse(readFileSync(path('g.json'), 'utf8')));
    expect(g.nodes).toEqual(v);
    expect(g.edges).toEqual(
      dag.edges
        .slice()
        .sort(
          (a, b) =>
            Math.min(a[0], a[1]) - Math.min(b[0], b[1]) || Math.max(a[0], a[1]) - Math.max(b[0], b[1]),
        ),
    );
    expect(g.meta?.['pc']).toMatchObject({ uc_rule: 'sepset', uc_priority: 'existing', stable: true });
    expect(readFileSync(path('g.dot'), 'utf8')).toContain('"age" -> "z1_1"');
    expect(readFileSync(path('g.svg'), 'utf8')).toContain('<svg');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('passes the options through: kci, original search, maxp, priority codes, max-k, bootstrap', async () => {
    const r = await run(
      'pc',
      '--data',
      path('data.csv'),
      '--out',
      path('g2.json'),
      '--stable',
      'false',
      '--uc-rule',
      'maxp',
      '--uc-priority',
      '-1',
      '--max-k',
      '1',
      '--alpha',
      '0.01',
      '--bootstrap',
      '3',
      '--seed',
      '7',
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({
      stable: false,
      uc_rule: 'maxp',
      uc_priority: 'stronger',
      max_k: 1,
      alpha: 0.01,
    });
    expect(summary.bootstrap).toMatchObject({ resamples: 3, completed: 3 });
    const g = JSON.parse(readFileSync(path('g2.json'), 'utf8'));
    expect(g.bootstrap.edges.length).toBeGreaterThan(0);
    const small = fromColumns(
      v.slice(0, 3),
      [0, 1, 2].map((j) => Float64Array.from({ length: 200 }, (_, i) => data.data[i * 5 + j] as number)),
    );
    writeFileSync(path('small.csv'), formatCsv(small));
    const k = await run('pc', '--data', path('small.csv'), '--out', path('k.json'), '--test', 'kci');
    expect(k.code).toBe(0);
    expect(JSON.parse(k.out).test).toBe('kci');
  });

  it('respects background knowledge from a file', async () => {
    writeFileSync(path('bk.json'), JSON.stringify({ tiers: [['age', 'sex'], ['z1_*'], ['z2_*']] }));
    const r = await run(
      'pc',
      '--data',
      path('data.csv'),
      '--out',
      path('g3.json'),
      '--background',
      path('bk.json'),
    );
    expect(r.code).toBe(0);
    const g = parseGraph(JSON.parse(readFileSync(path('g3.json'), 'utf8')));
    const tier = (name: string): number => (name.startsWith('z2_') ? 2 : name.startsWith('z1_') ? 1 : 0);
    for (const [a, b, mark] of g.edges) {
      // Every edge between tiers points forward; these tiers leave nothing to guess here.
      expect(mark).toBe('-->');
      expect(tier(g.nodes[a] as string)).toBeLessThanOrEqual(tier(g.nodes[b] as string));
    }
  });

  const bad: [string, () => void, RegExp][] = [
    [
      'a constant column',
      () => writeFileSync(path('bad.csv'), 'a,b,c\n1,5,2\n2,5,1\n3,5,7\n4,5,1\n5,5,0\n'),
      /column "b" is constant/,
    ],
    [
      'a duplicated column',
      () => writeFileSync(path('bad.csv'), 'a,b,c\n1,1,2\n2,2,1\n3,3,7\n4,4,1\n5,5,0\n'),
      /columns "a" and "b" are perfectly correlated/,
    ],
    [
      'non-numeric data',
      () => writeFileSync(path('bad.csv'), 'a,b\n1,2\n3,x\n'),
      /bad\.csv:3, column "b": "x" is not a number/,
    ],
  ];
  for (const [what, setup, message] of bad) {
    it(`fails clearly, writing nothing, on ${what}`, async () => {
      setup();
      rmSync(path('bad.json'), { force: true });
      const r = await run('pc', '--data', path('bad.csv'), '--out', path('bad.json'));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^crl: error: /);
      expect(r.err).toMatch(message);
      expect(readdirSync(dir)).not.toContain('bad.json');
    });
  }

  it('fails clearly on background knowledge naming an unknown variable or contradicting itself', async () => {
    writeFileSync(path('bk-bad.json'), JSON.stringify({ forbidden: [['agee', 'sex']] }));
    let r = await run(
      'pc',
      '--data',
      path('data.csv'),
      '--out',
      path('x.json'),
      '--background',
      path('bk-bad.json'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bk-bad\.json.*unknown variable "agee"/);
    writeFileSync(
      path('bk-bad.json'),
      JSON.stringify({ required: [['z2_1', 'age']], tiers: [['age'], ['z2_1']] }),
    );
    r = await run(
      'pc',
      '--data',
      path('data.csv'),
      '--out',
      path('x.json'),
      '--background',
      path('bk-bad.json'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/contradiction: "z2_1" -> "age" is required but forbidden by the tiers/);
  });

  it('checks --truth before writing anything', async () => {
    writeFileSync(path('other.json'), formatGraph(graphOf(['p', 'q'], 'p->q')));
    rmSync(path('t.json'), { force: true });
    const r = await run(
      'pc',
      '--data',
      path('data.csv'),
      '--out',
      path('t.json'),
      '--truth',
      path('other.json'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/crl: error: .*other\.json/);
    expect(readdirSync(dir)).not.toContain('t.json');
  });

  it('rejects bad flag values', async () => {
    for (const args of [
      ['--alpha', '1.5'],
      ['--alpha', '0'],
      ['--uc-rule', 'nope'],
      ['--uc-priority', '7'],
      ['--test', 'gsq'],
    ]) {
      const r = await run('pc', '--data', path('data.csv'), '--out', path('x.json'), ...args);
      expect(r.code).toBe(2);
    }
  });
});
