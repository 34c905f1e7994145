import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../common/errors.js';
import { fromColumns, type Table } from '../../../common/matrix.js';
import { Rng } from '../../../common/random.js';
import { correlationMatrix } from '../../../evaluator/metrics/correlation.js';
import { matchingToRelabel, mcc } from '../../../evaluator/metrics/mcc.js';

function normals(rng: Rng, n: number, p: number): Float64Array[] {
  return Array.from({ length: p }, () => Float64Array.from({ length: n }, () => rng.normal()));
}

function names(prefix: string, p: number): string[] {
  return Array.from({ length: p }, (_, j) => `${prefix}${j}`);
}

/** Columns of `truth` permuted, sign-flipped and affinely rescaled. */
function scrambled(
  rng: Rng,
  truth: Float64Array[],
): { est: Float64Array[]; perm: number[]; signs: number[] } {
  const perm = rng.permutation(truth.length);
  const signs = perm.map(() => rng.sign());
  const est = perm.map((src, j) => {
    const scale = signs[j]! * (0.5 + 4 * rng.uniform());
    const offset = 100 * rng.normal();
    return Float64Array.from(truth[src]!, (v) => scale * v + offset);
  });
  return { est, perm, signs };
}

describe('mcc', () => {
  it('is exactly 1 for a permuted, sign-flipped, affinely rescaled copy, and recovers the matching', () => {
    const rng = new Rng('mcc-copy');
    const truth = normals(rng, 2000, 6);
    const { est, perm, signs } = scrambled(rng, truth);
    const r = mcc(fromColumns(names('t', 6), truth), fromColumns(names('e', 6), est));
    expect(Math.abs(r.mcc - 1)).toBeLessThan(1e-12);
    expect(r.method).toBe('pearson');
    expect(r.n_matched).toBe(6);
    expect(r.per_modality).toBeUndefined(); // names do not follow z<m>_<i>
    perm.forEach((src, j) => {
      const pair = r.matching.find((m) => m.estimate === `e${j}`)!;
      expect(pair.truth).toBe(`t${src}`);
      expect(Math.sign(pair.corr)).toBe(signs[j]);
    });
  });

  it('is near 0 for independent noise at n = 10,000', () => {
    const rng = new Rng('mcc-noise');
    const r = mcc(
      fromColumns(names('t', 5), normals(rng, 10_000, 5)),
      fromColumns(names('e', 5), normals(rng, 10_000, 5)),
    );
    expect(r.mcc).toBeLessThan(0.05);
    expect(r.mcc).toBeGreaterThan(0);
  });

  it('equals the best mean |corr| over all permutations', () => {
    const rng = new Rng('mcc-brute');
    const base = normals(rng, 500, 5);
    const truth = fromColumns(names('t', 5), base);
    // Partly shared signal, so several matchings compete.
    const mixed = base.map((_, j) =>
      Float64Array.from(base[j]!, (v, i) => 0.6 * v + 0.5 * base[(j + 1) % 5]![i]! + 0.4 * rng.normal()),
    );
    const est = fromColumns(names('e', 5), mixed);
    const c = correlationMatrix(truth, est);
    let best = 0;
    const visit = (row: number, used: Set<number>, acc: number): void => {
      if (row === 5) {
        best = Math.max(best, acc / 5);
        return;
      }
      for (let j = 0; j < 5; j++) {
        if (used.has(j)) continue;
        used.add(j);
        visit(row + 1, used, acc + Math.abs(c.data[row * 5 + j]!));
        used.delete(j);
      }
    };
    visit(0, new Set(), 0);
    expect(mcc(truth, est).mcc).toBeCloseTo(best, 12);
  });

  it('spearman is 1 under monotone nonlinear per-column transforms where pearson is not', () => {
    const rng = new Rng('mcc-spearman');
    const truth = normals(rng, 3000, 3);
    const est = [
      Float64Array.from(truth[2]!, (v) => Math.exp(2 * v)),
      Float64Array.from(truth[0]!, (v) => v ** 3),
      Float64Array.from(truth[1]!, (v) => -Math.atan(3 * v)),
    ];
    const t = fromColumns(names('t', 3), truth);
    const e = fromColumns(names('e', 3), est);
    const s = mcc(t, e, { method: 'spearman' });
    expect(s.method).toBe('spearman');
    expect(Math.abs(s.mcc - 1)).toBeLessThan(1e-12);
    expect(mcc(t, e).mcc).toBeLessThan(0.95);
  });

  it('scores each z<m>_<i> block against the same block only', () => {
    const rng = new Rng('mcc-blocks');
    const truth = normals(rng, 3000, 4);
    const tNames = ['z1_1', 'z1_2', 'z2_1', 'z2_2'];
    // The estimate's modality-1 block holds truth modality 2 and vice versa.
    const est = [truth[2]!, truth[3]!, truth[0]!, truth[1]!];
    const r = mcc(fromColumns(tNames, truth), fromColumns(tNames, est));
    expect(r.mcc).toBeCloseTo(1, 12);
    expect(Object.keys(r.per_modality!)).toEqual(['1', '2']);
    expect(r.per_modality!['1']!.mcc).toBeLessThan(0.1);
    expect(r.per_modality!['1']!.matching.every((m) => m.truth.startsWith('z1_'))).toBe(true);
    const none = mcc(fromColumns(tNames, truth), fromColumns(tNames, est), { groups: 'none' });
    expect(none.per_modality).toBeUndefined();
  });

  it('accepts an explicit modality grouping and rejects unknown names in it', () => {
    const rng = new Rng('mcc-groups');
    const truth = normals(rng, 1000, 4);
    const t = fromColumns(['age', 'bmi', 'hr', 'spo2'], truth);
    const e = fromColumns(['a', 'b', 'c', 'd'], [truth[1]!, truth[0]!, truth[3]!, truth[2]!]);
    const r = mcc(t, e, {
      groups: {
        eye: { truth: ['age', 'bmi'], estimate: ['a', 'b'] },
        sleep: { truth: ['hr', 'spo2'], estimate: ['c', 'd'] },
      },
    });
    expect(r.per_modality!['eye']!.mcc).toBeCloseTo(1, 12);
    expect(r.per_modality!['sleep']!.matching.map((m) => [m.truth, m.estimate])).toEqual([
      ['hr', 'd'],
      ['spo2', 'c'],
    ]);
    expect(() => mcc(t, e, { groups: { eye: { truth: ['age', 'nope'], estimate: ['a'] } } })).toThrow(
      /groups\.eye\.truth: unknown column\(s\) "nope"/,
    );
  });

  it('with fewer estimate columns, averages over matched pairs and reports the unmatched', () => {
    const rng = new Rng('mcc-fewer');
    const truth = normals(rng, 1000, 3);
    const r = mcc(fromColumns(names('t', 3), truth), fromColumns(['e0', 'e1'], [truth[2]!, truth[0]!]));
    expect(r.mcc).toBeCloseTo(1, 12);
    expect([r.n_truth, r.n_estimate, r.n_matched]).toEqual([3, 2, 2]);
    expect(r.unmatched_truth).toEqual(['t1']);
    expect(r.unmatched_estimate).toEqual([]);
  });

  it('rejects mismatched row counts naming both inputs', () => {
    const rng = new Rng('mcc-rows');
    const a: Table = fromColumns(['x'], normals(rng, 10, 1));
    const b: Table = fromColumns(['y'], normals(rng, 12, 1));
    const call = () => mcc(a, b, { labels: { truth: 'truth.csv', estimate: 'est.csv' } });
    expect(call).toThrow(CrlError);
    expect(call).toThrow(/truth\.csv has 10 rows, est\.csv has 12/);
  });

  it('turns a matching into an estimate -> truth relabelling', () => {
    expect(
      matchingToRelabel([
        { truth: 'z1_1', estimate: 'z1_2', corr: 0.9 },
        { truth: 'z1_2', estimate: 'z1_1', corr: -0.8 },
      ]),
    ).toEqual({ z1_2: 'z1_1', z1_1: 'z1_2' });
  });
});
