import { describe, expect, it } from 'vitest';
import { isDag, latentModality, parentsOf, type Graph } from '../../../../common/graph.js';
import { column } from '../../../../common/matrix.js';
import { choleskyInPlace, choleskySolveInPlace, matmul, transpose } from '../../../../common/linalg.js';
import { Rng } from '../../../../common/random.js';
import { generateSynthetic } from '../../../../trainer/data/synthetic/generate.js';
import { drawLatentGraph } from '../../../../trainer/data/synthetic/latent-graph.js';
import { applyMixing, drawMixing, type MixingMlp } from '../../../../trainer/data/synthetic/mixing.js';
import { resolveSpec } from '../../../../trainer/data/synthetic/spec.js';
import { naivePearson } from '../../../helpers/stats.js';

function interEdges(g: Graph): [string, string][] {
  return g.edges
    .filter(([a, b]) => latentModality(g.nodes[a]!) !== latentModality(g.nodes[b]!))
    .map(([a, b]) => [g.nodes[a]!, g.nodes[b]!]);
}

/** Inverts the mixing layer by layer (least squares on the first, rectangular layer). */
function invertMixing(mlp: MixingMlp, x: Float64Array, n: number): Float64Array {
  let y = x;
  for (let li = mlp.layers.length - 1; li >= 0; li--) {
    const { inDim, outDim, w, b } = mlp.layers[li]!;
    if (li < mlp.layers.length - 1) y = y.map((v) => (v < 0 ? v / mlp.negativeSlope : v));
    const centred = new Float64Array(n * outDim);
    for (let r = 0; r < n; r++)
      for (let o = 0; o < outDim; o++) centred[r * outDim + o] = y[r * outDim + o]! - b[o]!;
    const wt = transpose(w, outDim, inDim);
    const gram = matmul(wt, w, inDim, outDim, inDim);
    const rhs = transpose(matmul(centred, w, n, outDim, inDim), n, inDim); // inDim x n
    expect(choleskyInPlace(gram, inDim)).toBe(true);
    choleskySolveInPlace(gram, inDim, rhs, n);
    y = transpose(rhs, inDim, n);
  }
  return y;
}

describe('latent graph', () => {
  const cases = [
    [[2, 2], 1, 'modality'],
    [[2, 2], 2, 'latent'],
    [[2, 2], 3, 'latent'],
    [[3, 3], 4, 'latent'],
    [[2, 2, 2, 2], 6, 'latent'],
    [[2, 2, 2, 2, 2, 2, 2, 2], 4, 'modality'], // rare valid sets: the covering construction
    [[2, 2, 2, 2, 2, 2, 2, 2], 8, 'latent'], // a perfect matching: the covering construction
    [[4, 1, 1], 4, 'latent'], // one modality outweighs the rest: each of its latents needs an edge
    [[1, 1, 1, 1, 1], 3, 'latent'],
  ] as const;

  it('is a DAG with exactly the requested inter-modal edges, lower to higher modality, covering every latent or modality', () => {
    for (let seed = 0; seed < 40; seed++) {
      for (const [latents, count, coverage] of cases) {
        const g = drawLatentGraph(latents, count, 0.5, coverage, new Rng(seed));
        expect(isDag(g)).toBe(true);
        const inter = interEdges(g);
        expect(inter).toHaveLength(count);
        for (const [a, b] of inter) expect(latentModality(a)!).toBeLessThan(latentModality(b)!);
        const modalities = new Set(inter.flatMap(([a, b]) => [latentModality(a), latentModality(b)]));
        expect(modalities.size).toBe(latents.length);
        if (coverage === 'latent') expect(new Set(inter.flat())).toEqual(new Set(g.nodes));
      }
    }
  });

  it('leaves no latent without an inter-modal edge in the paper presets, where the edge count allows', () => {
    for (const preset of [
      'c1',
      'c2',
      'c3',
      'c3-30',
      'ablation-0',
      'ablation-25',
      'ablation-50',
      'm5',
      'm8',
    ]) {
      for (let seed = 0; seed < 10; seed++) {
        const spec = resolveSpec(preset, { seed });
        expect(spec.coverage, preset).toBe('latent');
        const g = drawLatentGraph(spec.latents, spec.interEdges, 0, spec.coverage, new Rng(seed));
        expect(new Set(interEdges(g).flat()), `${preset} seed ${seed}`).toEqual(new Set(g.nodes));
      }
    }
    expect(resolveSpec('ablation-75', {}).coverage).toBe('modality'); // one edge cannot touch 4 latents
  });

  it('adds intra-modal edges only when asked', () => {
    const none = drawLatentGraph([3, 3], 3, 0, 'latent', new Rng(1));
    expect(none.edges).toHaveLength(3);
    const all = drawLatentGraph([3, 3], 3, 1, 'latent', new Rng(1));
    expect(all.edges).toHaveLength(3 + 3 + 3);
  });
});

describe('generateSynthetic', () => {
  const spec = resolveSpec('c1', { n: 3000, seed: 5, intraProb: 1 });
  const ds = generateSynthetic(spec);

  it('has the declared shapes and names', () => {
    expect(ds.latents.columns).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(ds.exogenous.columns).toEqual(['eta1_1', 'eta2_1']);
    expect(ds.noise.columns).toEqual(['eps1_1', 'eps1_2', 'eps2_1', 'eps2_2']);
    expect(ds.modalities.map((m) => [m.name, m.observations.nRows, m.observations.columns.length])).toEqual([
      ['m1', 3000, 15],
      ['m2', 3000, 15],
    ]);
    expect(ds.modalities[1]!.latentColumns).toEqual(['z2_1', 'z2_2']);
  });

  it('makes every edge carry dependence: z_i = f_i(Pa) + eps_i with f_i non-trivial', () => {
    const parents = parentsOf(ds.graph);
    parents.forEach((pa, i) => {
      const c = naivePearson(column(ds.latents, i), column(ds.noise, i));
      if (pa.length === 0) expect(c).toBeCloseTo(1, 12);
      else expect(c).toBeLessThan(0.8); // the parents explain a real share of the variance
    });
  });

  it('standardises latents and draws exogenous variables independent of them', () => {
    for (let j = 0; j < ds.latents.columns.length; j++) {
      const z = column(ds.latents, j);
      const mean = z.reduce((s, v) => s + v, 0) / z.length;
      const sd = Math.sqrt(z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length);
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(sd).toBeCloseTo(1, 10);
      for (let e = 0; e < ds.exogenous.columns.length; e++) {
        expect(Math.abs(naivePearson(z, column(ds.exogenous, e)))).toBeLessThan(0.06);
      }
    }
  });

  it('keeps the graph and mixing when only n changes', () => {
    const small = generateSynthetic({ ...spec, n: 200 });
    expect(small.graph).toEqual(ds.graph);
    expect(small.modalities.map((m) => m.mixingConditionNumbers)).toEqual(
      ds.modalities.map((m) => m.mixingConditionNumbers),
    );
  });

  it('differs across seeds', () => {
    const other = generateSynthetic({ ...spec, seed: 6 });
    expect(Array.from(other.latents.data.slice(0, 10))).not.toEqual(Array.from(ds.latents.data.slice(0, 10)));
  });
});

describe('mixing', () => {
  it('is injective and well conditioned: inverting it layer by layer recovers [z, eta]', () => {
    const rng = new Rng(9);
    const mlp = drawMixing(3, 15, { negativeSlope: 0.2, singularValues: [1, 2] }, rng);
    for (const layer of mlp.layers) expect(layer.conditionNumber).toBeLessThanOrEqual(2);
    const n = 500;
    const inputs = new Float64Array(n * 3).map(() => rng.normal());
    const x = applyMixing(mlp, inputs, n);
    const back = invertMixing(mlp, x, n);
    back.forEach((v, i) => expect(v).toBeCloseTo(inputs[i]!, 8));
  });

  it('is nonlinear: LeakyReLU bends it', () => {
    const mlp = drawMixing(2, 6, { negativeSlope: 0.2, singularValues: [1, 2] }, new Rng(1));
    const a = Float64Array.from([1, -1]);
    const fa = applyMixing(mlp, a, 1);
    const f2a = applyMixing(
      mlp,
      a.map((v) => 2 * v),
      1,
    );
    const f0 = applyMixing(mlp, new Float64Array(2), 1);
    // An affine map would satisfy f(2a) - f(0) = 2 (f(a) - f(0)).
    const deviation = fa.reduce((s, v, i) => s + Math.abs(f2a[i]! - f0[i]! - 2 * (v - f0[i]!)), 0);
    expect(deviation).toBeGreaterThan(1e-3);
  });
});
