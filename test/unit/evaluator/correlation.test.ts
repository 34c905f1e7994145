import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../common/errors.js';
import { fromColumns, makeTable, type Table } from '../../../common/matrix.js';
import { Rng } from '../../../common/random.js';
import { averageRanks, correlationMatrix } from '../../../evaluator/metrics/correlation.js';
import { naivePearson } from '../../helpers/stats.js';

function randomTable(rng: Rng, prefix: string, n: number, p: number): Table {
  const cols = Array.from({ length: p }, () => Float64Array.from({ length: n }, () => rng.normal()));
  return fromColumns(
    cols.map((_, j) => `${prefix}${j}`),
    cols,
  );
}

function col(t: Table, j: number): number[] {
  const p = t.columns.length;
  return Array.from({ length: t.nRows }, (_, i) => t.data[i * p + j]!);
}

/** Ranks by counting: O(n^2) but obviously right. */
function naiveRanks(x: number[]): number[] {
  return x.map((v) => {
    const less = x.filter((w) => w < v).length;
    const equal = x.filter((w) => w === v).length;
    return less + (equal + 1) / 2;
  });
}

describe('correlationMatrix', () => {
  it('agrees with the textbook formula across row chunks and odd column counts', () => {
    const rng = new Rng('corr-naive');
    // 2,500 rows cross two chunk boundaries; 3 x 5 exercises every remainder loop.
    const a = randomTable(rng, 'a', 2500, 3);
    const bCols = [0, 1, 2, 3, 4].map((j) =>
      Float64Array.from(col(a, j % 3), (v) => v * (j + 1) + rng.normal() * j),
    );
    const b = fromColumns(['b0', 'b1', 'b2', 'b3', 'b4'], bCols);
    const c = correlationMatrix(a, b);
    expect(c.rows).toEqual(['a0', 'a1', 'a2']);
    expect(c.cols).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 5; j++) {
        expect(c.data[i * 5 + j]).toBeCloseTo(naivePearson(col(a, i), bCols[j]!), 12);
      }
    }
    // The construction makes b0 and b3 exact multiples of a0.
    expect(c.data[0]).toBeCloseTo(1, 14);
  });

  it('computes a table against itself as a symmetric matrix equal to the textbook formula', () => {
    const rng = new Rng('self');
    for (const p of [1, 2, 5, 7, 9]) {
      const t = randomTable(rng, 'v', 2500, p);
      const { data } = correlationMatrix(t, t);
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          expect(data[i * p + j]).toBe(data[j * p + i]);
          expect(data[i * p + j]).toBeCloseTo(naivePearson(col(t, i), col(t, j)), 12);
        }
      }
    }
  });

  it('is invariant to affine maps, keeping precision under a large offset', () => {
    const rng = new Rng('corr-affine');
    const a = randomTable(rng, 'a', 5000, 2);
    const x = col(a, 0);
    const y = col(a, 1);
    const b = fromColumns(
      ['shifted', 'flipped'],
      [Float64Array.from(x, (v) => 1e6 + 3 * v), Float64Array.from(y, (v) => 5 - 0.01 * v)],
    );
    const c = correlationMatrix(a, b);
    expect(c.data[0]).toBeCloseTo(1, 10); // corr(a0, shifted)
    expect(c.data[3]).toBeCloseTo(-1, 12); // corr(a1, flipped)
    expect(c.data[1]).toBeCloseTo(-naivePearson(x, y), 12);
    for (const v of c.data) expect(Math.abs(v)).toBeLessThanOrEqual(1);
  });

  it('spearman is 1 under monotone transforms and -1 under decreasing ones', () => {
    const rng = new Rng('corr-spearman');
    const a = randomTable(rng, 'a', 3000, 2);
    const b = fromColumns(
      ['exp', 'negcube'],
      [Float64Array.from(col(a, 0), (v) => Math.exp(3 * v)), Float64Array.from(col(a, 1), (v) => -(v ** 3))],
    );
    const s = correlationMatrix(a, b, { method: 'spearman' });
    expect(s.data[0]).toBeCloseTo(1, 12);
    expect(s.data[3]).toBeCloseTo(-1, 12);
    const p = correlationMatrix(a, b);
    expect(p.data[0]).toBeLessThan(0.9); // Pearson sees the nonlinearity
  });

  it('spearman equals pearson on average ranks, with ties', () => {
    const rng = new Rng('corr-ties');
    const n = 400;
    const x = Float64Array.from({ length: n }, () => rng.int(7));
    const y = Float64Array.from(x, (v) => v + rng.int(3));
    const s = correlationMatrix(fromColumns(['x'], [x]), fromColumns(['y'], [y]), { method: 'spearman' });
    const expected = naivePearson(naiveRanks(Array.from(x)), naiveRanks(Array.from(y)));
    expect(s.data[0]).toBeCloseTo(expected, 12);
  });

  it('rejects a constant column by name, and mismatched or too few rows', () => {
    const ok = Float64Array.from([1, 2, 3, 4]);
    const a = fromColumns(['x', 'flat'], [ok, Float64Array.from([7, 7, 7, 7])]);
    const b = fromColumns(['y'], [ok]);
    expect(() => correlationMatrix(b, a, { labels: { b: 'est.csv' } })).toThrow(
      /est\.csv, column "flat": column is constant/,
    );
    expect(() => correlationMatrix(a, b, { method: 'spearman' })).toThrow(CrlError);
    const short = fromColumns(['y'], [Float64Array.from([1, 2, 3])]);
    expect(() => correlationMatrix(b, short, { labels: { a: 'A.csv', b: 'B.csv' } })).toThrow(
      /A\.csv has 4 rows, B\.csv has 3/,
    );
    expect(() => correlationMatrix(makeTable(['x'], 1), makeTable(['y'], 1))).toThrow(/at least 2 rows/);
  });

  it('rejects non-finite values, naming row and column', () => {
    const a = fromColumns(['x'], [Float64Array.from([1, 2, Infinity])]);
    const b = fromColumns(['y'], [Float64Array.from([1, 2, 3])]);
    expect(() => correlationMatrix(a, b, { labels: { a: 'A.csv' } })).toThrow(
      /A\.csv, column "x": row 3 is Infinity/,
    );
  });
});

describe('averageRanks', () => {
  it('gives tied values the mean of their ranks', () => {
    expect(Array.from(averageRanks(Float64Array.from([10, 20, 20, 5])))).toEqual([2, 3.5, 3.5, 1]);
    expect(Array.from(averageRanks(Float64Array.from([0, -0, -1])))).toEqual([2.5, 2.5, 1]);
    expect(Array.from(averageRanks(Float64Array.from([3, 3, 3])))).toEqual([2, 2, 2]);
  });

  it('agrees with counting on random values of both signs and many ties', () => {
    const rng = new Rng('ranks');
    const x = Array.from({ length: 600 }, (_, i) =>
      i % 3 === 0 ? rng.int(9) - 4 : rng.normal() * 10 ** rng.int(6),
    );
    expect(Array.from(averageRanks(Float64Array.from(x)))).toEqual(naiveRanks(x));
  });
});
