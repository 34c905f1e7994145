import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../common/errors.js';
import { Rng } from '../../../common/random.js';
import { linearSumAssignment } from '../../../evaluator/metrics/assignment.js';

/**
 * Minimum over all permutations by Heap's algorithm. A swap of positions i and k changes the
 * cost by four entries, so each permutation costs O(1); integer costs keep that update exact.
 */
function bruteForceMin(cost: number[][]): number {
  const n = cost.length;
  const perm = Array.from({ length: n }, (_, i) => i);
  let current = perm.reduce((s, c, r) => s + (cost[r]![c] as number), 0);
  let best = current;
  const counters = new Array<number>(n).fill(0);
  const swap = (i: number, k: number): void => {
    const pi = perm[i]!;
    const pk = perm[k]!;
    current += cost[i]![pk]! + cost[k]![pi]! - cost[i]![pi]! - cost[k]![pk]!;
    perm[i] = pk;
    perm[k] = pi;
  };
  let i = 1;
  while (i < n) {
    if (counters[i]! < i) {
      swap(i % 2 === 0 ? 0 : counters[i]!, i);
      if (current < best) best = current;
      counters[i]! += 1;
      i = 1;
    } else {
      counters[i] = 0;
      i += 1;
    }
  }
  return best;
}

/** Minimum over all injective row -> column maps of a wide matrix (rows <= cols). */
function bruteForceWide(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]!.length;
  let best = Infinity;
  const used = new Array<boolean>(cols).fill(false);
  const visit = (r: number, acc: number): void => {
    if (r === rows) {
      best = Math.min(best, acc);
      return;
    }
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      visit(r + 1, acc + cost[r]![c]!);
      used[c] = false;
    }
  };
  visit(0, 0);
  return best;
}

function randomMatrix(rng: Rng, rows: number, cols: number, integer: boolean): number[][] {
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => (integer ? rng.int(1000) - 300 : rng.normal() * 10)),
  );
}

/** The result is a valid matching whose reported cost is the sum of its entries. */
function expectConsistent(cost: number[][], result: ReturnType<typeof linearSumAssignment>): void {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  expect(result.pairs).toHaveLength(Math.min(rows, cols));
  const seenCols = new Set(result.pairs.map(([, c]) => c));
  expect(seenCols.size).toBe(result.pairs.length);
  for (const [r, c] of result.pairs) {
    expect(result.rowToCol[r]).toBe(c);
    expect(result.colToRow[c]).toBe(r);
  }
  const sum = result.pairs.reduce((s, [r, c]) => s + cost[r]![c]!, 0);
  expect(result.cost).toBeCloseTo(sum, 9);
}

describe('linearSumAssignment', () => {
  it('solves the scipy documentation example', () => {
    const cost = [
      [4, 1, 3],
      [2, 0, 5],
      [3, 2, 2],
    ];
    const r = linearSumAssignment(cost);
    expect(Array.from(r.rowToCol)).toEqual([1, 0, 2]);
    expect(r.cost).toBe(5);
  });

  it('matches brute force on random square problems of size 1..8', () => {
    const rng = new Rng('assignment-square');
    for (let n = 1; n <= 8; n++) {
      for (let trial = 0; trial < 6; trial++) {
        const cost = randomMatrix(rng, n, n, trial % 2 === 0);
        const r = linearSumAssignment(cost);
        expectConsistent(cost, r);
        const best = bruteForceMin(cost);
        expect(r.cost).toBeCloseTo(best, 9);
        // The two brute forces check each other (Heap's algorithm is easy to get subtly wrong).
        if (n <= 7) expect(best).toBeCloseTo(bruteForceWide(cost), 9);
      }
    }
  });

  it('matches brute force over all 10! permutations on random 10x10 problems', () => {
    const rng = new Rng('assignment-10');
    for (let trial = 0; trial < 3; trial++) {
      const cost = randomMatrix(rng, 10, 10, true);
      const r = linearSumAssignment(cost);
      expectConsistent(cost, r);
      expect(r.cost).toBe(bruteForceMin(cost));
    }
  });

  it('matches min(rows, cols) pairs optimally on wide and tall matrices', () => {
    const rng = new Rng('assignment-rect');
    for (const [rows, cols] of [
      [1, 4],
      [2, 5],
      [3, 7],
      [4, 6],
      [6, 4],
      [7, 3],
      [5, 1],
    ] as const) {
      for (let trial = 0; trial < 4; trial++) {
        const cost = randomMatrix(rng, rows, cols, trial % 2 === 1);
        const r = linearSumAssignment(cost);
        expectConsistent(cost, r);
        const transposed = Array.from({ length: cols }, (_, c) => cost.map((row) => row[c]!));
        const best = rows <= cols ? bruteForceWide(cost) : bruteForceWide(transposed);
        expect(r.cost).toBeCloseTo(best, 9);
        // Exactly the surplus side has unmatched entries.
        expect(Array.from(r.rowToCol).filter((c) => c < 0)).toHaveLength(Math.max(0, rows - cols));
        expect(Array.from(r.colToRow).filter((c) => c < 0)).toHaveLength(Math.max(0, cols - rows));
      }
    }
  });

  it('accepts a flat row-major CostMatrix and agrees with the nested form', () => {
    const rng = new Rng('assignment-flat');
    const cost = randomMatrix(rng, 4, 6, false);
    const flat = linearSumAssignment({ rows: 4, cols: 6, data: Float64Array.from(cost.flat()) });
    const nested = linearSumAssignment(cost);
    expect(Array.from(flat.rowToCol)).toEqual(Array.from(nested.rowToCol));
    expect(flat.cost).toBe(nested.cost);
  });

  it('handles ties and empty problems', () => {
    const ties = linearSumAssignment(Array.from({ length: 5 }, () => new Array<number>(5).fill(2)));
    expect(new Set(ties.rowToCol).size).toBe(5);
    expect(ties.cost).toBe(10);
    const empty = linearSumAssignment([]);
    expect(empty.pairs).toEqual([]);
    expect(empty.cost).toBe(0);
  });

  it('rejects non-finite costs and ragged rows', () => {
    expect(() =>
      linearSumAssignment([
        [1, NaN],
        [0, 1],
      ]),
    ).toThrow(/cost\[0\]\[1\] is NaN/);
    expect(() => linearSumAssignment([[1, 2], [3]])).toThrow(CrlError);
    expect(() => linearSumAssignment({ rows: 2, cols: 2, data: [1, 2, 3] })).toThrow(/expected 2 x 2/);
  });
});
