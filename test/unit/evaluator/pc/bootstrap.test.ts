import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../common/random.js';
import { bootstrapPc } from '../../../../evaluator/pc/bootstrap.js';
import { randomLinearSem, sampleLinearSem } from '../../../../evaluator/pc/simulate.js';
import { graphOf } from './helpers.js';

const v = ['a', 'b', 'c', 'd'];
const dag = graphOf(v, 'a->c, b->c, c->d');
const rng = new Rng('bootstrap');
const data = sampleLinearSem(randomLinearSem(dag, rng, { positive: true }), 2000, rng);

describe('bootstrap edge stability', () => {
  it('reports adjacency and orientation frequencies that add up', () => {
    const r = bootstrapPc(data, { resamples: 10, seed: 3 });
    expect(r.completed).toBe(10);
    for (const e of r.edges) {
      expect(e.a).toBeLessThan(e.b);
      expect(e.forward + e.backward + e.undirected + e.bidirected).toBeCloseTo(e.adjacent, 12);
      expect(e.adjacent).toBeGreaterThan(0);
      expect(e.adjacent).toBeLessThanOrEqual(1);
    }
    // The true edges are found in every resample and mostly oriented as the truth (the collider
    // a -> c <- b, then c -> d); the independent pair a, b is rarely adjacent.
    const freq = (a: number, b: number) => r.edges.find((e) => e.a === a && e.b === b);
    for (const [a, b] of [
      [0, 2],
      [1, 2],
      [2, 3],
    ] as const) {
      expect(freq(a, b)?.adjacent).toBe(1);
      expect(freq(a, b)?.forward).toBeGreaterThanOrEqual(0.7);
      expect(freq(a, b)?.backward).toBe(0);
    }
    expect(freq(0, 1)?.adjacent ?? 0).toBeLessThan(0.5);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const a = bootstrapPc(data, { resamples: 5, seed: 1, alpha: 0.5 });
    expect(bootstrapPc(data, { resamples: 5, seed: 1, alpha: 0.5 })).toEqual(a);
    expect(bootstrapPc(data, { resamples: 5, seed: 2, alpha: 0.5 }).edges).not.toEqual(a.edges);
  });

  it('rejects a non-positive number of resamples', () => {
    expect(() => bootstrapPc(data, { resamples: 0 })).toThrow(/positive integer/);
  });
});
