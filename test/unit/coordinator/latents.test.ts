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
  exogenousNames: [],
  exogenousOffsets: new Map([
    ['b', 0],
    ['a', 0],
  ]),
};

const chunk = (modality: string, rowOffset: number, values: number[], k: number, eta?: number[], e = 1) => ({
  modality,
  rowOffset,
  z: encodeTensor(Float32Array.from(values), [values.length / k, k]),
  exogenous: eta === undefined ? undefined : encodeTensor(Float32Array.from(eta), [eta.length / e, e]),
});

describe('LatentAssembler', () => {
  it('places chunks from shards into layout columns, in any order', () => {
    const asm = new LatentAssembler(layout);
    asm.add(chunk('a', 2, [5, 6, 7, 8], 2), 'trainer y', ['a']);
    asm.add(chunk('b', 0, [1, 2, 3, 4], 1), 'trainer x', ['b']);
    asm.add(chunk('a', 0, [1, 2, 3, 4], 2), 'trainer z', ['a']);
    const { latents: t, exogenous } = asm.finish(() => []);
    expect(t.columns).toEqual(['z2_1', 'z1_1', 'z1_2']);
    expect([...t.data]).toEqual([1, 1, 2, 2, 3, 4, 3, 5, 6, 4, 7, 8]);
    expect(exogenous.columns).toEqual([]);
  });

  it('places the exogenous slots beside, and insists on them exactly where a modality has some', () => {
    const withEta = {
      ...layout,
      modalities: [
        { name: 'b', index: 1, dims: 5, latents: 1, exogenous: 2 },
        { name: 'a', index: 0, dims: 5, latents: 2, exogenous: 0 },
      ],
      exogenousNames: ['eta2_1', 'eta2_2'],
    };
    const asm = new LatentAssembler(withEta);
    asm.add(chunk('b', 0, [1, 2, 3, 4], 1, [10, 11, 20, 21, 30, 31, 40, 41], 2), 'trainer x', ['b']);
    asm.add(chunk('a', 0, [1, 2, 3, 4, 5, 6, 7, 8], 2), 'trainer y', ['a']);
    const { exogenous } = asm.finish(() => []);
    expect(exogenous.columns).toEqual(['eta2_1', 'eta2_2']);
    expect([...exogenous.data]).toEqual([10, 11, 20, 21, 30, 31, 40, 41]);

    const strict = new LatentAssembler(withEta);
    expect(() => strict.add(chunk('b', 0, [1, 2], 1), 'trainer x', ['b'])).toThrow(
      /trainer x sent no exogenous slots for modality b \(it has 2\)/,
    );
    expect(() => strict.add(chunk('a', 0, [1, 2], 2, [9]), 'trainer y', ['a'])).toThrow(
      /trainer y sent exogenous slots for modality a, which has none/,
    );
    // One slot per row where the modality has two: a wrong shape on the wire, named.
    expect(() => strict.add(chunk('b', 0, [1, 2], 1, [9, 9], 1), 'trainer x', ['b'])).toThrow(
      /exogenous slots of b from trainer x/,
    );
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
