import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../common/errors.js';
import { fromColumns } from '../../../common/matrix.js';
import { Rng } from '../../../common/random.js';
import { alignedMcc, alignedMccOf, modalityCodesByName } from '../../../evaluator/metrics/aligned-mcc.js';
import { mcc } from '../../../evaluator/metrics/mcc.js';

function normals(rng: Rng, n: number, p: number): Float64Array[] {
  return Array.from({ length: p }, () => Float64Array.from({ length: n }, () => rng.normal()));
}

/** Random orthogonal p x p matrix (Gram-Schmidt on Gaussian columns), row-major. */
function randomRotation(rng: Rng, p: number): number[][] {
  const cols: number[][] = [];
  for (let k = 0; k < p; k++) {
    let v = Array.from({ length: p }, () => rng.normal());
    for (const u of cols) {
      const d = v.reduce((s, x, i) => s + x * (u[i] as number), 0);
      v = v.map((x, i) => x - d * (u[i] as number));
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return Array.from({ length: p }, (_, i) => cols.map((c) => c[i] as number));
}

/** Rows of `cols` (p columns) multiplied by R: out_j = sum_i col_i R[i][j], plus an offset. */
function rotate(cols: Float64Array[], r: number[][], offset = 0): Float64Array[] {
  const n = (cols[0] as Float64Array).length;
  return cols.map((_, j) => {
    const out = new Float64Array(n).fill(offset);
    cols.forEach((c, i) => {
      const w = (r[i] as number[])[j] as number;
      for (let t = 0; t < n; t++) out[t] = (out[t] as number) + w * (c[t] as number);
    });
    return out;
  });
}

const names = (prefix: string, p: number): string[] => Array.from({ length: p }, (_, j) => `${prefix}${j}`);

describe('alignedMcc', () => {
  it('is 1 for a rotated code whose plain MCC is far from 1', () => {
    const rng = new Rng('aligned-rotated');
    const truth = normals(rng, 3000, 4); // 3 latents + 1 exogenous
    const code = rotate(truth, randomRotation(rng, 4), 5);
    // Scored against the 3 latents; the exogenous variable only has to be somewhere in the code.
    const latents = fromColumns(names('t', 3), truth.slice(0, 3));
    const plain = mcc(latents, fromColumns(names('c', 3), code.slice(0, 3)));
    const r = alignedMcc([{ name: 'm1', truth: latents, code: fromColumns(names('c', 4), code) }]);
    expect(plain.mcc).toBeLessThan(0.9);
    // Not exactly 1: the truth's sample correlations are not exactly 0, so no rotation of the raw
    // code meets its standardised columns perfectly.
    expect(r.mcc_aligned).toBeCloseTo(1, 3);
    expect(r.per_modality['m1']).toBeCloseTo(1, 3);
  });

  it('cannot bring back a latent the code does not hold', () => {
    const rng = new Rng('aligned-lost');
    const truth = normals(rng, 3000, 3);
    const unrelated = normals(rng, 3000, 1)[0] as Float64Array;
    // The code holds latent 0 and the exogenous variable (column 2), but noise instead of latent 1.
    const code = rotate([truth[0], unrelated, truth[2]] as Float64Array[], randomRotation(rng, 3));
    const r = alignedMcc([
      {
        name: 'm1',
        truth: fromColumns(names('t', 2), truth.slice(0, 2)),
        code: fromColumns(names('c', 3), code),
      },
    ]);
    // Latent 0 comes back exactly, latent 1 not at all: the mean is about 1/2.
    expect(r.mcc_aligned as number).toBeGreaterThan(0.45);
    expect(r.mcc_aligned as number).toBeLessThan(0.55);
  });

  it('averages over every latent of every modality, with a score per modality', () => {
    const rng = new Rng('aligned-two');
    const t1 = normals(rng, 2000, 3);
    const t2 = normals(rng, 2000, 3);
    const lost = normals(rng, 2000, 1)[0] as Float64Array;
    const r = alignedMcc([
      {
        name: 'a',
        truth: fromColumns(names('t', 2), t1.slice(0, 2)),
        code: fromColumns(names('c', 3), rotate(t1, randomRotation(rng, 3))),
      },
      {
        name: 'b',
        truth: fromColumns(names('t', 2), t2.slice(0, 2)),
        code: fromColumns(
          names('c', 3),
          rotate([lost, t2[1], t2[2]] as Float64Array[], randomRotation(rng, 3)),
        ),
      },
    ]);
    // A spare code column's chance correlation with the latents (~1/sqrt(n)) tilts the rotation a little.
    expect(r.per_modality['a'] as number).toBeGreaterThan(0.995);
    expect(r.per_modality['b'] as number).toBeLessThan(0.6);
    expect(r.mcc_aligned as number).toBeCloseTo(
      ((r.per_modality['a'] as number) * 2 + (r.per_modality['b'] as number) * 2) / 4,
      12,
    );
  });

  it('is null where the code is narrower than the latents or misses a direction', () => {
    const rng = new Rng('aligned-null');
    const truth = normals(rng, 500, 3);
    const narrow = alignedMcc([
      {
        name: 'm',
        truth: fromColumns(names('t', 3), truth),
        code: fromColumns(names('c', 2), truth.slice(0, 2)),
      },
    ]);
    expect(narrow.mcc_aligned).toBeNull();
    expect(narrow.per_modality['m']).toBeNull();
    const degenerate = alignedMcc([
      {
        name: 'm',
        truth: fromColumns(names('t', 3), truth),
        code: fromColumns(names('c', 3), [truth[0], truth[1], new Float64Array(500)] as Float64Array[]),
      },
    ]);
    expect(degenerate.mcc_aligned).toBeNull();
  });

  it('names the modality when truth and code rows differ', () => {
    const rng = new Rng('aligned-rows');
    const call = () =>
      alignedMcc([
        {
          name: 'fundus',
          truth: fromColumns(names('t', 2), normals(rng, 100, 2)),
          code: fromColumns(names('c', 2), normals(rng, 99, 2)),
        },
      ]);
    expect(call).toThrow(CrlError);
    expect(call).toThrow(/fundus/);
  });

  it("by name: picks each modality's latents and exogenous slots, and names a missing column", () => {
    const rng = new Rng('aligned-by-name');
    const [a, b, c] = normals(rng, 1000, 3) as [Float64Array, Float64Array, Float64Array];
    const truth = fromColumns(['z1_1', 'z2_1'], [a, c]);
    // Modality 1 holds z1_1 in its exogenous slot and an unrelated b in its latent slot.
    const est = fromColumns(['z1_1', 'z2_1'], [b, c]);
    const exo = fromColumns(['eta1_1'], [a]);
    const modalities = [
      { name: 'x', latents: ['z1_1'], exogenous: ['eta1_1'] },
      { name: 'y', latents: ['z2_1'], exogenous: [] },
    ];
    const r = alignedMccOf(truth, modalities, est, exo);
    expect(r.per_modality['1'] as number).toBeGreaterThan(0.995);
    expect(r.per_modality['2'] as number).toBeGreaterThan(0.999);
    expect(Object.keys(r.per_modality)).toEqual(['1', '2']);
    expect(() => alignedMccOf(truth, [{ name: 'x', latents: ['z3_1'], exogenous: [] }], est, exo)).toThrow(
      /z3_1/,
    );
  });
});

describe('modalityCodesByName', () => {
  it('groups z<m>_<i> and eta<m>_<j> by modality, in order of m', () => {
    expect(modalityCodesByName(['z2_1', 'z1_1', 'z1_2'], ['eta2_1', 'eta1_1', 'eta1_2'], 'f')).toEqual([
      { name: 'm1', latents: ['z1_1', 'z1_2'], exogenous: ['eta1_1', 'eta1_2'] },
      { name: 'm2', latents: ['z2_1'], exogenous: ['eta2_1'] },
    ]);
  });

  it('gives up on latents outside the convention and refuses stray exogenous slots, naming the field', () => {
    expect(modalityCodesByName(['z1_1', 'age'], [], 'f')).toBeUndefined();
    expect(() => modalityCodesByName(['z1_1'], ['eta2_1'], 'exogenous_names')).toThrow(
      /exogenous_names.*"eta2_1" is not eta<m>_<j> of a modality m with latents \(z1_\*\)/,
    );
    expect(() => modalityCodesByName(['z1_1'], ['noise'], 'exogenous_names')).toThrow(/"noise"/);
  });
});
