import { describe, expect, it } from 'vitest';
import { trialSettings } from '../../../../trainer/service/settings.js';
import { trialSpec } from '../../coordinator/fakes.js';

const modalities = [
  { name: 'm1', kind: 'tabular' as const, dims: 15, latents: 2, exogenous: 1 },
  { name: 'm2', kind: 'tabular' as const, dims: 15, latents: 2, exogenous: 1 },
];

describe('trial settings', () => {
  it('rotate codes by default, with the rotation learning-rate scale, and let a trial turn them off', () => {
    const plain = trialSettings(trialSpec({ seed: 3 }), modalities);
    expect(plain.config.rotation).toBe(true);
    expect(plain.options.adam.lrScale).toMatchObject({ 'rotation/': 10, 'adjacency/': 4 });
    const off = trialSettings(trialSpec({ overridesJson: '{"model":{"rotation":false}}' }), modalities);
    expect(off.config.rotation).toBe(false);
  });

  it('refuse a rotation that is not a boolean, naming the field', () => {
    expect(() =>
      trialSettings(trialSpec({ overridesJson: '{"model":{"rotation":"yes"}}' }), modalities),
    ).toThrow(/spec\.overrides_json\.model\.rotation/);
  });
});
