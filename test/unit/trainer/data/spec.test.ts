import { describe, expect, it } from 'vitest';
import {
  PRESETS,
  minimumLatentCover,
  possibleInterEdges,
  resolveSpec,
} from '../../../../trainer/data/synthetic/spec.js';

describe('resolveSpec', () => {
  it('reproduces the paper presets', () => {
    const c1 = resolveSpec('c1', {});
    expect([c1.latents, c1.exogenous, c1.dims, c1.n, c1.interEdges]).toEqual([
      [2, 2],
      [1, 1],
      [15, 15],
      10_000,
      2,
    ]);
    const c2 = resolveSpec('c2', {});
    expect([c2.latents, c2.dims, c2.interEdges]).toEqual([[3, 3], [20, 20], 4]); // 9 possible, sparsity >= 50%
    const c3 = resolveSpec('c3', {});
    expect([c3.latents.length, c3.dims[0], c3.interEdges]).toEqual([4, 15, 6]);
    expect(resolveSpec('c3-30', {}).dims).toEqual([30, 30, 30, 30]);
    expect(
      ['ablation-0', 'ablation-25', 'ablation-50', 'ablation-75'].map((p) => resolveSpec(p, {}).interEdges),
    ).toEqual([4, 3, 2, 1]);
    for (const [name, m] of [
      ['m5', 5],
      ['m6', 6],
      ['m8', 8],
    ] as const) {
      const s = resolveSpec(name, {});
      expect([s.latents.length, s.latents[0], s.exogenous[0], s.dims[0]]).toEqual([m, 2, 1, 30]);
    }
  });

  it('lets flags override any preset value and broadcasts single values', () => {
    const s = resolveSpec('c1', { n: 500, dims: [8, 9], sparsity: 0, seed: 3 });
    expect([s.n, s.dims, s.interEdges, s.seed]).toEqual([500, [8, 9], 4, 3]);
    const custom = resolveSpec(undefined, {
      modalities: 3,
      latents: [2],
      exogenous: [0],
      dims: [5],
      interEdges: 2,
    });
    expect([custom.latents, custom.exogenous, custom.dims, custom.interEdges]).toEqual([
      [2, 2, 2],
      [0, 0, 0],
      [5, 5, 5],
      2,
    ]);
  });

  it('covers every latent when the edge count allows, every modality otherwise', () => {
    expect(minimumLatentCover([2, 2])).toBe(2);
    expect(minimumLatentCover([3, 3])).toBe(3);
    expect(minimumLatentCover([5, 1, 1])).toBe(5);
    expect(resolveSpec('c3', { interEdges: 4 }).coverage).toBe('latent');
    expect(resolveSpec('c3', { interEdges: 3 }).coverage).toBe('modality');
    expect(resolveSpec('c3', { interEdges: 5, coverage: 'modality' }).coverage).toBe('modality');
  });

  it('counts possible inter-modal edges as cross-modality latent pairs', () => {
    expect(possibleInterEdges([2, 2])).toBe(4);
    expect(possibleInterEdges([2, 3, 1])).toBe(2 * 3 + 2 * 1 + 3 * 1);
  });

  it.each([
    ['nope', {}, /--preset.*unknown preset "nope"/],
    ['c1', { dims: [-3] }, /--dims.*at least 1, got -3/],
    ['c1', { dims: [2] }, /--dims.*injective/],
    ['c1', { dims: [15, 15, 15] }, /--dims.*1 or 2 values/],
    ['c1', { interEdges: 5 }, /--inter-edges.*only 4 are possible/],
    ['c3', { interEdges: 1 }, /--inter-edges.*at least 2 needed/],
    ['c1', { sparsity: 1 }, /--sparsity/],
    ['c1', { n: 1 }, /--n.*at least 2/],
    [undefined, {}, /--preset/],
    ['c1', { intraProb: 2 }, /--intra-prob/],
    ['c3', { interEdges: 3, coverage: 'latent' }, /--coverage.*8 latents.*at least 4 needed/],
  ] as const)('rejects %s %j naming the flag', (preset, overrides, message) => {
    expect(() => resolveSpec(preset, overrides)).toThrow(message);
  });

  it('has a description for every preset', () => {
    for (const p of Object.values(PRESETS)) expect(p.description.length).toBeGreaterThan(0);
  });
});
