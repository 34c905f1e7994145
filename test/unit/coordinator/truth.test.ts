import { describe, expect, it } from 'vitest';
import { resolveTrialSpec } from '../../../coordinator/spec.js';
import { loadTrialTruth } from '../../../coordinator/truth.js';
import { trialSpec } from './fakes.js';

function truthOf(over: Parameters<typeof trialSpec>[0]) {
  const spec = trialSpec({ rows: 200, ...over });
  return loadTrialTruth(resolveTrialSpec(spec), spec);
}

describe('trial truth', () => {
  it("says whether the truth meets the paper's structural conditions", () => {
    // c2 seed 1 draws two exchangeable pairs; seed 2 does not.
    expect(truthOf({ preset: 'c2', seed: 1 })?.conditionsMet).toBe(false);
    expect(truthOf({ preset: 'c2', seed: 2 })?.conditionsMet).toBe(true);
  });

  it('checks the graph over the trained modalities only', () => {
    // c3 seed 1: z1_1 -> z2_1, z1_2 -> z3_1, z2_1 -> z4_1, z2_2 -> z4_2, z3_1 -> z4_2, z3_2 -> z4_1.
    const full = truthOf({ preset: 'c3', seed: 1 });
    expect(full?.conditionsMet).toBe(true);
    // Trained on m1 and m2 alone, z1_2 and z2_2 lose their only inter-modal edges.
    const part = truthOf({ preset: 'c3', seed: 1, modalities: ['m1', 'm2'] });
    expect(part?.graph.nodes).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(part?.graph.edges).toEqual([[0, 2, '-->']]);
    expect(part?.conditionsMet).toBe(false);
  });
});
