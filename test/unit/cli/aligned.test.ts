import { describe, expect, it } from 'vitest';
import { fromColumns } from '../../../common/matrix.js';
import { Rng } from '../../../common/random.js';
import { codeColumns, splitCode } from '../../../cli/commands/aligned.js';
import { alignedMccOf } from '../../../evaluator/metrics/aligned-mcc.js';

const modalities = [
  { name: 'eye', latents: 2, exogenous: 1 },
  { name: 'sleep', latents: 1, exogenous: 2 },
].map((m) => ({ ...m, kind: 'tabular' as const, dims: 4 }));

describe('the code of a run, by name', () => {
  it('names its slots z then eta per modality, and keeps the eta slots for exogenous.csv', () => {
    expect(codeColumns({ modalities })).toEqual([
      { name: 'eye', latents: ['z1_1', 'z1_2'], exogenous: ['eta1_1'] },
      { name: 'sleep', latents: ['z2_1'], exogenous: ['eta2_1', 'eta2_2'] },
    ]);
    const code = Float32Array.from({ length: 2 * 6 }, (_, i) => i);
    const { latents: z, exogenous: eta } = splitCode(code, { modalities }, 2);
    expect(z.columns).toEqual(['z1_1', 'z1_2', 'z2_1']);
    expect(Array.from(z.data)).toEqual([0, 1, 3, 6, 7, 9]);
    expect(eta.columns).toEqual(['eta1_1', 'eta2_1', 'eta2_2']);
    expect(Array.from(eta.data)).toEqual([2, 4, 5, 8, 10, 11]);
  });

  it('scores the complete rows only, and aligns against the latents alone where no exogenous truth is recorded', () => {
    const rng = new Rng('aligned-scores');
    const n = 1500;
    const col = () => Float64Array.from({ length: n }, () => rng.normal());
    const [a, b, c] = [col(), col(), col()];
    const truthLatents = fromColumns(['z1_1', 'z1_2', 'z2_1'], [a, b, c]);
    // Modality 1 holds (a, b) turned by 45 degrees plus noise; modality 2 holds c in an eta slot.
    const code = new Float32Array(n * 6);
    const incomplete = new Uint8Array(n).fill(1);
    for (let r = 0; r < n; r++) {
      const s = Math.SQRT1_2;
      const row = [s * (a[r]! + b[r]!), s * (a[r]! - b[r]!), rng.normal(), rng.normal(), c[r]!, rng.normal()];
      // Rows 0..99 lack a modality: their code is garbage the score must not see.
      if (r < 100) {
        incomplete[r] = 0;
        row.fill(1e3 * rng.normal());
      }
      code.set(row, r * 6);
    }
    const cols = codeColumns({ modalities });
    const { latents: est, exogenous: exo } = splitCode(code, { modalities }, n);
    const r = alignedMccOf(truthLatents, cols, est, exo, incomplete);
    expect(r.per_modality['1']).toBeGreaterThan(0.999);
    expect(r.per_modality['2']).toBeGreaterThan(0.999);
    // Counting the garbage rows would wreck it.
    const all = alignedMccOf(truthLatents, cols, est, exo);
    expect(all.mcc_aligned as number).toBeLessThan(0.5);
  });
});
