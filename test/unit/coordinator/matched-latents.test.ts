import { describe, expect, it } from 'vitest';
import { matchedLatents } from '../../../coordinator/matched-latents.js';

describe('matchedLatents', () => {
  it('keys each pair by its true latent and leaves unmatched estimates out', () => {
    const got = matchedLatents(
      { matching: [1, -1, 0], matchedCorr: [-0.8, 0, 0.6] },
      ['z1_1', 'z1_2', 'z1_3'],
      ['t1', 't2'],
    );
    expect(got).toEqual({ t2: { estimate: 'z1_1', corr: -0.8 }, t1: { estimate: 'z1_3', corr: 0.6 } });
  });
});
