import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../../common/graph.js';
import { column } from '../../../../common/matrix.js';
import { generateSynthetic } from '../../../../trainer/data/synthetic/generate.js';
import { Rng } from '../../../../common/random.js';
import { structuralIdentifiability } from '../../../../trainer/data/synthetic/identifiability.js';
import { drawLatentGraph } from '../../../../trainer/data/synthetic/latent-graph.js';
import { resolveSpec } from '../../../../trainer/data/synthetic/spec.js';

const nodes = ['z1_1', 'z1_2', 'z1_3', 'z2_1', 'z2_2', 'z2_3'];

describe('structural identifiability of a synthetic truth', () => {
  it('finds pairs of one modality with the same parents and children (a rotation of the pair costs no edge)', () => {
    // z1_2 and z1_3 both feed only z2_2; z2_1 and z2_3 both have only z1_1 as parent.
    const g: Graph = {
      nodes,
      edges: [
        [0, 3, '-->'],
        [0, 5, '-->'],
        [1, 4, '-->'],
        [2, 4, '-->'],
      ],
    };
    const s = structuralIdentifiability(g);
    expect(s.exchangeable).toEqual([
      ['z1_2', 'z1_3'],
      ['z2_1', 'z2_3'],
    ]);
    expect(s.unlinked).toEqual([]);
  });

  it('passes a graph whose latents all differ in their inter-modal neighbours', () => {
    const g: Graph = {
      nodes,
      edges: [
        [0, 3, '-->'],
        [0, 5, '-->'],
        [1, 3, '-->'],
        [2, 4, '-->'],
      ],
    };
    expect(structuralIdentifiability(g)).toEqual({ exchangeable: [], unlinked: [] });
  });

  it('names latents with no edge to another modality; two of them in one modality are also exchangeable', () => {
    const g: Graph = {
      nodes,
      edges: [
        [0, 3, '-->'],
        [1, 2, '-->'],
      ],
    };
    const s = structuralIdentifiability(g);
    expect(s.unlinked).toEqual(['z1_2', 'z1_3', 'z2_2', 'z2_3']);
    expect(s.exchangeable).toEqual([['z2_2', 'z2_3']]);
  });
});

describe('drawing a graph that meets the conditions', () => {
  it('redraws only when asked: the default draw is unchanged, the required one has no exchangeable pair', () => {
    let violating = 0;
    for (let seed = 0; seed < 40; seed++) {
      const plain = drawLatentGraph([3, 3], 4, 0, 'latent', new Rng(seed));
      const again = drawLatentGraph([3, 3], 4, 0, 'latent', new Rng(seed), false);
      expect(again).toEqual(plain);
      if (structuralIdentifiability(plain).exchangeable.length > 0) violating++;
      const required = drawLatentGraph([3, 3], 4, 0, 'latent', new Rng(seed), true);
      expect(structuralIdentifiability(required)).toEqual({ exchangeable: [], unlinked: [] });
    }
    // c2's shape (3 + 3 latents, 4 edges) draws an exchangeable pair often enough to matter.
    expect(violating).toBeGreaterThan(3);
  });
});

describe('edge strengths', () => {
  it('give a single parent the variance share of its mechanism, measured on the sampled latents', () => {
    const ds = generateSynthetic(resolveSpec('c1', { seed: 4, n: 6000 }));
    expect(ds.identifiability.conditions_met).toBe(true);
    // c1 is a perfect matching: each child has one parent, so the total-effect index must equal the
    // share of the child's variance that the parent explains, read off the data by binning.
    for (const e of ds.identifiability.edges) {
      const x = column(ds.latents, ds.latents.columns.indexOf(e.from));
      const y = column(ds.latents, ds.latents.columns.indexOf(e.to));
      expect(e.total_effect).toBeGreaterThan(0.2);
      expect(Math.abs(e.total_effect - binnedR2(x, y, 60))).toBeLessThan(0.06);
    }
    expect(ds.identifiability.edges).toHaveLength(ds.graph.edges.length);
  });
});

/** R^2 of y on the bin means of x (quantile bins): a nonparametric E[y | x]. */
function binnedR2(x: Float64Array, y: Float64Array, bins: number): number {
  const order = Array.from(x.keys()).sort((a, b) => (x[a] as number) - (x[b] as number));
  const n = x.length;
  let resid = 0;
  let mean = 0;
  for (const v of y) mean += v;
  mean /= n;
  let total = 0;
  for (const v of y) total += (v - mean) ** 2;
  for (let b = 0; b < bins; b++) {
    const idx = order.slice(Math.floor((b * n) / bins), Math.floor(((b + 1) * n) / bins));
    const m = idx.reduce((s, i) => s + (y[i] as number), 0) / idx.length;
    for (const i of idx) resid += ((y[i] as number) - m) ** 2;
  }
  return 1 - resid / total;
}
