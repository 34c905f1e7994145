import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCsv } from '../../../common/csv.js';
import { fromColumns } from '../../../common/matrix.js';
import { Rng } from '../../../common/random.js';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('crl-eval-cli-');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs `crl ARGS` in-process, capturing stdout and stderr. */
const crl = (...args: string[]) => runCli(args);

const rng = new Rng('eval-cli');
const n = 400;
const names = ['z1_1', 'z1_2', 'z2_1'];
const cols = names.map(() => Float64Array.from({ length: n }, () => rng.normal()));
const truthCsv = file('truth.csv', formatCsv(fromColumns(names, cols)));
// Estimate: truth z1_2, z1_1, z2_1 under new names, sign-flipped and shifted.
const estCsv = file(
  'est.csv',
  formatCsv(
    fromColumns(
      ['e1', 'e2', 'e3'],
      [cols[1]!, cols[0]!, cols[2]!].map((c, j) => Float64Array.from(c, (v) => (j === 1 ? -v : 2 * v + 7))),
    ),
  ),
);
const noiseCsv = file(
  'noise.csv',
  formatCsv(
    fromColumns(
      ['e1', 'e2', 'e3'],
      names.map(() => Float64Array.from({ length: n }, () => rng.normal())),
    ),
  ),
);

describe('crl eval mcc', () => {
  it('prints the MCC result as JSON', async () => {
    const r = await crl('eval', 'mcc', '--truth', truthCsv, '--est', estCsv);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.mcc).toBeGreaterThan(0.9999999); // CSV keeps 9 significant digits
    expect(out.method).toBe('pearson');
    expect([out.truth, out.estimate, out.n_rows]).toEqual([truthCsv, estCsv, n]);
    expect(out.matching.map((m: { truth: string; estimate: string }) => [m.truth, m.estimate])).toEqual([
      ['z1_1', 'e2'],
      ['z1_2', 'e1'],
      ['z2_1', 'e3'],
    ]);
    expect(out.matching[0].corr).toBeLessThan(0);
  });

  it('selects columns and switches to spearman', async () => {
    const r = await crl(
      'eval',
      'mcc',
      '--truth',
      truthCsv,
      '--est',
      noiseCsv,
      '--method',
      'spearman',
      '--columns-truth',
      'z1_1,z2_1',
      '--columns-est',
      'e3',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.method).toBe('spearman');
    expect([out.n_truth, out.n_estimate, out.n_matched]).toEqual([2, 1, 1]);
    expect(out.mcc).toBeLessThan(0.2);
  });

  it('rejects an unknown column naming the flag', async () => {
    const r = await crl('eval', 'mcc', '--truth', truthCsv, '--est', estCsv, '--columns-est', 'e1,nope');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/est\.csv, --columns-est: unknown column\(s\) "nope"/);
  });
});

describe('crl eval r2', () => {
  it('prints held-out R² with its protocol, and in-sample on request', async () => {
    const r = await crl('eval', 'r2', '--truth', truthCsv, '--est', estCsv, '--seed', '3');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.r2).toBeGreaterThan(0.9);
    expect([out.protocol, out.n_train, out.n_test, out.seed, out.alpha]).toEqual(['heldout', 320, 80, 3, 1]);
    const ins = await crl(
      'eval',
      'r2',
      '--truth',
      truthCsv,
      '--est',
      noiseCsv,
      '--protocol',
      'insample',
      '--max-train',
      '100',
      '--alpha',
      '0.1',
      '--gamma',
      '0.5',
    );
    expect(ins.code).toBe(0);
    const o2 = JSON.parse(ins.stdout);
    expect([o2.protocol, o2.n_train, o2.n_test, o2.alpha, o2.gamma]).toEqual([
      'insample',
      100,
      100,
      0.1,
      0.5,
    ]);
  });

  it('rejects a bad flag value with exit code 2', async () => {
    for (const bad of [
      ['--protocol', 'crossval'],
      ['--alpha', '0'],
      ['--max-train', '1'],
      ['--gamma', 'wide'],
    ]) {
      const r = await crl('eval', 'r2', '--truth', truthCsv, '--est', estCsv, ...bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr).toContain(bad[0]);
      expect(r.stdout).toBe('');
    }
  });
});

describe('crl eval shd', () => {
  const truthGraph = file(
    'truth.json',
    JSON.stringify({
      nodes: names,
      edges: [
        [0, 2, '-->'],
        [1, 2, '-->'],
      ],
    }),
  );
  // The truth graph in the estimate's names (e2 = z1_1, e1 = z1_2, e3 = z2_1), z1_2 -> z2_1 reversed.
  const estGraph = file(
    'est.json',
    JSON.stringify({
      nodes: ['e1', 'e2', 'e3'],
      edges: [
        [1, 2, '-->'],
        [2, 0, '-->'],
      ],
    }),
  );

  it('relabels by the MCC matching of the latents, then counts', async () => {
    const r = await crl(
      'eval',
      'shd',
      '--truth',
      truthGraph,
      '--est',
      estGraph,
      '--truth-latents',
      truthCsv,
      '--est-latents',
      estCsv,
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.relabel).toEqual({ e2: 'z1_1', e1: 'z1_2', e3: 'z2_1' });
    expect([out.shd, out.shd_directed, out.shd_cdt, out.shd_skeleton]).toEqual([1, 1, 2, 0]);
    expect(out.reversed).toEqual([{ truth: 'z1_2 --> z2_1', estimate: 'z2_1 --> z1_2' }]);
  });

  it('without latents, requires the same node names', async () => {
    const r = await crl('eval', 'shd', '--truth', truthGraph, '--est', estGraph);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only in .*est\.json: e1, e2, e3/);
    const half = await crl(
      'eval',
      'shd',
      '--truth',
      truthGraph,
      '--est',
      estGraph,
      '--truth-latents',
      truthCsv,
    );
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--est-latents/);
  });
});

describe('crl eval input errors', () => {
  it('exit 2 for a ragged CSV, naming file and line', async () => {
    const ragged = file('ragged.csv', 'a,b\n1,2\n3\n');
    const r = await crl('eval', 'mcc', '--truth', ragged, '--est', estCsv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ragged\.csv:3: row has 1 fields, the header has 2/);
  });

  it('exit 2 for a NaN cell, naming line and column', async () => {
    const nan = file('nan.csv', 'x,y\n1,2\n2,NaN\n3,1\n');
    const r = await crl('eval', 'r2', '--truth', truthCsv, '--est', nan);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nan\.csv:3, column "y": NaN is not allowed/);
  });

  it('exit 2 for mismatched row counts, naming both files', async () => {
    const short = file('short.csv', 'x\n1\n2\n3\n');
    for (const metric of ['mcc', 'r2']) {
      const r = await crl('eval', metric, '--truth', truthCsv, '--est', short);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${truthCsv} has ${n} rows, ${short} has 3`);
    }
  });

  it('exit 2 for an unknown flag value or a missing required flag', async () => {
    const bad = await crl('eval', 'mcc', '--truth', truthCsv, '--est', estCsv, '--method', 'kendall');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--method must be one of pearson, spearman, got "kendall"/);
    const missing = await crl('eval', 'mcc', '--truth', truthCsv);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--est/);
  });

  it('exit 2 for a constant column, naming it', async () => {
    const flat = file('flat.csv', 'k\n' + '5\n'.repeat(n));
    const r = await crl('eval', 'mcc', '--truth', truthCsv, '--est', flat);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/flat\.csv, column "k": column is constant/);
  });
});
