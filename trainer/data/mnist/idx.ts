/**
 * IDX arrays, the format of the original MNIST and Fashion-MNIST distributions: two zero bytes,
 * an element-type byte, a rank byte, one big-endian uint32 per dimension, then the values in C
 * order. Files may be gzipped (as distributed) or plain; gzip is recognised by its magic bytes
 * rather than the file name, because mirrors and the Debian package differ in what they keep.
 *
 * Only unsigned bytes (type 0x08) are read: both MNIST datasets store images and labels that way,
 * and a wider type here would mean the wrong file was picked up.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { invalidArgument } from '../../../common/errors.js';

export interface IdxArray {
  /** The dimensions from the header, outermost first. */
  dims: number[];
  /** The values, row-major; length is the product of `dims`. */
  data: Uint8Array;
}

/** Expected dimensions; `null` accepts any size on that axis (typically the item count). */
export type IdxExpectation = readonly (number | null)[];

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

export function readIdx(file: string, expect?: IdxExpectation): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw invalidArgument(`cannot read IDX file: ${(err as Error).message}`, { file }, err);
  }
  return parseIdx(bytes, file, expect);
}

/** Parses IDX bytes (gzipped or not); `file` labels errors. */
export function parseIdx(bytes: Uint8Array, file = '<idx>', expect?: IdxExpectation): IdxArray {
  const raw = isGzip(bytes) ? gunzip(bytes, file) : bytes;
  if (raw.length < 4) {
    throw invalidArgument(`truncated: ${raw.length} bytes, an IDX header needs at least 4`, { file });
  }
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw invalidArgument(
      `is not an IDX file: bad magic number 0x${hex(raw, 0, 4)} (expected 0x0000 then type and rank bytes)`,
      { file },
    );
  }
  const type = raw[2] as number;
  if (type !== UBYTE) {
    const name = TYPE_NAMES[type];
    throw invalidArgument(
      name === undefined
        ? `has unknown IDX element type 0x${hex(raw, 2, 1)}`
        : `has IDX element type ${name} (0x${hex(raw, 2, 1)}); only unsigned bytes (0x08) are supported`,
      { file },
    );
  }
  const rank = raw[3] as number;
  if (rank === 0) throw invalidArgument('has rank 0 (no dimensions)', { file });
  const dataOffset = 4 + 4 * rank;
  if (raw.length < dataOffset) {
    throw invalidArgument(
      `truncated: the header of a rank-${rank} array needs ${dataOffset} bytes, the data have ${raw.length}`,
      { file },
    );
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const have = raw.length - dataOffset;
  if (have < size) {
    throw invalidArgument(`truncated: dims [${dims.join(', ')}] need ${size} values, the data have ${have}`, {
      file,
    });
  }
  if (have > size) {
    throw invalidArgument(
      `has ${have - size} bytes after the ${size} values of dims [${dims.join(', ')}] (trailing data)`,
      { file },
    );
  }
  if (expect !== undefined) checkDims(dims, expect, file);
  return { dims, data: raw.subarray(dataOffset) };
}

function checkDims(dims: readonly number[], expect: IdxExpectation, file: string): void {
  const fits = dims.length === expect.length && expect.every((e, i) => e === null || e === dims[i]);
  if (!fits) {
    const want = expect.map((e) => (e === null ? '*' : String(e))).join(', ');
    throw invalidArgument(`has dims [${dims.join(', ')}], expected [${want}]`, { file });
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw invalidArgument(`cannot decompress gzip data: ${(err as Error).message}`, { file }, err);
  }
}

function hex(bytes: Uint8Array, at: number, count: number): string {
  return Array.from(bytes.subarray(at, at + count), (b) => b.toString(16).padStart(2, '0')).join('');
}
