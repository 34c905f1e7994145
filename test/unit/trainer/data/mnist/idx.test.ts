import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../../../common/errors.js';
import { parseIdx, readIdx } from '../../../../../trainer/data/mnist/idx.js';
import { tempDir } from '../../../../helpers/tmp.js';

/** An IDX file image: zero magic, type byte, rank byte, big-endian dims, values. */
function idxBytes(dims: number[], values: ArrayLike<number>, type = 0x08): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(Uint8Array.from(values))]);
}

function errorOf(fn: () => unknown): CrlError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CrlError);
    return err as CrlError;
  }
  throw new Error('expected an error');
}

describe('IDX reader', () => {
  const dir = tempDir();
  const values = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);

  it('reads a gzipped rank-3 array in C order with its dims', () => {
    const file = join(dir, 'images-idx3-ubyte.gz');
    writeFileSync(file, gzipSync(idxBytes([2, 3, 4], values)));
    const arr = readIdx(file, [null, 3, 4]);
    expect(arr.dims).toEqual([2, 3, 4]);
    expect(Array.from(arr.data)).toEqual(values);
  });

  it('reads plain (not gzipped) data, recognised by content rather than name', () => {
    const file = join(dir, 'labels.gz');
    writeFileSync(file, idxBytes([5], [9, 0, 3, 255, 1]));
    expect(Array.from(readIdx(file).data)).toEqual([9, 0, 3, 255, 1]);
  });

  const cases: [string, () => Buffer, RegExp][] = [
    [
      'bad magic',
      () => gzipSync(Buffer.concat([Buffer.from([1]), idxBytes([2, 3, 4], values).subarray(1)])),
      /bad magic number 0x01000803/,
    ],
    [
      'a truncated data block',
      () => gzipSync(idxBytes([2, 3, 4], values).subarray(0, 20)),
      /truncated: dims \[2, 3, 4\] need 24 values, the data have 4/,
    ],
    [
      'a truncated header',
      () => gzipSync(idxBytes([2, 3, 4], values).subarray(0, 10)),
      /truncated: the header of a rank-3 array needs 16 bytes/,
    ],
    [
      'a truncated gzip stream',
      () => gzipSync(idxBytes([2, 3, 4], values)).subarray(0, 25),
      /cannot decompress gzip data/,
    ],
    [
      'trailing bytes',
      () => gzipSync(Buffer.concat([idxBytes([2, 3, 4], values), Buffer.from([7, 7])])),
      /2 bytes after the 24 values/,
    ],
    [
      'a float32 element type',
      () => gzipSync(idxBytes([2], [0, 0, 0, 0, 0, 0, 0, 0], 0x0d)),
      /element type float32 \(0x0d\); only unsigned bytes/,
    ],
    [
      'unexpected dims',
      () => gzipSync(idxBytes([2, 4, 3], values)),
      /has dims \[2, 4, 3\], expected \[\*, 3, 4\]/,
    ],
  ];
  it.each(cases)('rejects %s, naming the file', (_what, bytes, message) => {
    const file = join(dir, `bad-${_what.replace(/\W+/g, '-')}.gz`);
    writeFileSync(file, bytes());
    const err = errorOf(() => readIdx(file, [null, 3, 4]));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.where.file).toBe(file);
    expect(err.message).toContain(file);
    expect(err.detail).toMatch(message);
  });

  it('names a missing file', () => {
    const file = join(dir, 'absent.gz');
    const err = errorOf(() => readIdx(file));
    expect(err.where.file).toBe(file);
    expect(err.detail).toMatch(/cannot read IDX file/);
  });

  it('parses bytes directly, with a default label', () => {
    expect(parseIdx(idxBytes([1, 1], [42])).dims).toEqual([1, 1]);
    expect(() => parseIdx(Buffer.from([0, 0]))).toThrow(/<idx>: truncated: 2 bytes/);
  });
});
