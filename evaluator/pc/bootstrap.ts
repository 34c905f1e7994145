/**
 * Edge stability by the bootstrap: PC rerun on row resamples (with replacement), reporting for
 * every pair how often it was adjacent and how often in each orientation. Frequencies near 0 or 1
 * mark edges the data decide firmly; mid-range ones are fragile, whatever the single-run graph says.
 */
import type { Table } from '../../common/matrix.js';
import { makeTable } from '../../common/matrix.js';
import { Rng } from '../../common/random.js';
import { pcOnTable, type PcTableOptions } from './pc.js';

export interface BootstrapOptions extends PcTableOptions {
  /** Number of resamples B (at least 1). */
  resamples: number;
  /** Seed of the row resampling. Default 0. */
  seed?: number;
}

/** Frequencies over the completed resamples of the pair (a, b), a < b. */
export interface EdgeFrequency {
  a: number;
  b: number;
  /** Adjacent in any way. */
  adjacent: number;
  /** a --> b */
  forward: number;
  /** b --> a */
  backward: number;
  /** a --- b */
  undirected: number;
  /** a <-> b (only under the "bidirected" collider priority) */
  bidirected: number;
}

export interface BootstrapResult {
  resamples: number;
  /** Resamples on which PC completed; a resample whose data the CI test rejects (say, a column
   * made constant by resampling a rare value) is skipped and not counted. */
  completed: number;
  seed: number;
  /** Pairs adjacent in at least one completed resample, ascending by (a, b). */
  edges: EdgeFrequency[];
}

/** Runs PC on `resamples` bootstrap resamples of the rows of `table`. */
export function bootstrapPc(table: Table, options: BootstrapOptions): BootstrapResult {
  const { resamples } = options;
  if (!(Number.isInteger(resamples) && resamples >= 1)) {
    throw new RangeError(`bootstrap resamples must be a positive integer, got ${resamples}`);
  }
  const seed = options.seed ?? 0;
  const p = table.columns.length;
  const n = table.nRows;
  const counts = new Map<number, number[]>(); // key a*p+b -> [forward, backward, undirected, bidirected]
  const rng = new Rng(`pc-bootstrap:${seed}`);
  let completed = 0;
  let firstError: unknown;
  for (let r = 0; r < resamples; r++) {
    const draw = rng.fork(`resample-${r}`);
    const data = new Float64Array(n * p);
    for (let i = 0; i < n; i++) {
      const src = draw.int(n) * p;
      data.set(table.data.subarray(src, src + p), i * p);
    }
    let graph;
    try {
      graph = pcOnTable(makeTable(table.columns, n, data), options).graph;
    } catch (err) {
      firstError ??= err;
      continue;
    }
    completed++;
    for (let a = 0; a < p; a++) {
      for (let b = a + 1; b < p; b++) {
        if (!graph.adjacent(a, b)) continue;
        const k = graph.isDirected(a, b) ? 0 : graph.isDirected(b, a) ? 1 : graph.isUndirected(a, b) ? 2 : 3;
        const c = counts.get(a * p + b) ?? [0, 0, 0, 0];
        c[k] = (c[k] as number) + 1;
        counts.set(a * p + b, c);
      }
    }
  }
  if (completed === 0) throw firstError;
  const edges = [...counts.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([key, [f, bk, u, bi]]) => {
      const total = (f as number) + (bk as number) + (u as number) + (bi as number);
      return {
        a: Math.floor(key / p),
        b: key % p,
        adjacent: total / completed,
        forward: (f as number) / completed,
        backward: (bk as number) / completed,
        undirected: (u as number) / completed,
        bidirected: (bi as number) / completed,
      };
    });
  return { resamples, completed, seed, edges };
}
