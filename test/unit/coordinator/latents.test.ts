import { describe, expect, it } from 'vitest';
import { encodeTensor } from '../../../common/rpc/tensor.js';
import { LatentAssembler } from '../../../coordinator/latents.js';

const layout = {
  rows: 4,
  modalities: [
    { name: 'b', index: 1, dims: 5, latents: 1, exogenous: 0 },
    { name: 'a', index: 0, dims: 5, latents: 2, exogenous: 0 },
  ],
  latentNames: ['z2_1', 'z1_1', 'z1_2'],
  latentOffsets: new Map([
    ['b', 0],
    ['a', 1],
  ]),
};

const chunk = (modality: string, rowOffset: number, values: number[], k: number) => ({
  modality,
  rowOffset,
  z: encodeTensor(Float32Array.from(values), [values.length / k, k]),
});

describe('LatentAssembler', () => {
  it('places chunks from shards into layout columns, in any order', () => {
    const asm = new LatentAssembler(layout);
    asm.add(chunk('a', 2, [5, 6, 7, 8], 2), 'trainer y', ['a']);
    asm.add(chunk('b', 0, [1, 2, 3, 4], 1), 'trainer x', ['b']);
    asm.add(chunk('a', 0, [1, 2, 3, 4], 2), 'trainer z', ['a']);
    const t = asm.finish(() => []);
    expect(t.columns).toEqual(['z2_1', 'z1_1', 'z1_2']);
    expect([...t.data]).toEqual([1, 1, 2, 2, 3, 4, 3, 5, 6, 4, 7, 8]);
  });

  it('rejects a modality the sender does not own, a wrong width and rows out of range', () => {
    const asm = new LatentAssembler(layout);
    expect(() => asm.add(chunk('a', 0, [1, 2], 2), 'trainer x', ['b'])).toThrow(
      /trainer x sent latents of modality "a", which it does not own/,
    );
    expect(() => asm.add(chunk('a', 0, [1, 2, 3], 3), 'trainer x', ['a'])).toThrow(
      /latents of a from trainer x/,
    );
    expect(() => asm.add(chunk('b', 3, [1, 2], 1), 'trainer x', ['b'])).toThrow(
      /sent rows 3\.\.4 of modality b; the data have rows 0\.\.3/,
    );
  });

  it('names missing rows and their owners', () => {
    const asm = new LatentAssembler(layout);
    asm.add(chunk('b', 0, [1, 2, 3, 4], 1), 'trainer x', ['b']);
    asm.add(chunk('a', 0, [1, 2], 2), 'trainer y', ['a']);
    expect(() => asm.finish((m) => (m === 'a' ? ['y', 'w'] : []))).toThrow(
      /3 of 4 rows of modality a never arrived \(first: row 1; owners y, w\)/,
    );
  });
});
