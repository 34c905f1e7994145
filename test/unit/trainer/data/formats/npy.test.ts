import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  NpyRows,
  NpyWriter,
  readNpy,
  readNpyHeader,
  writeNpy,
  type NpyDtype,
} from '../../../../../trainer/data/formats/npy.js';
import { tempDir } from '../../../../helpers/tmp.js';

const dir = tempDir('crl-npy-');
let counter = 0;
const path = (name = 'a.npy') => join(dir, `${counter++}-${name}`);

/** Files written by numpy 2.4 (np.lib.format.write_array), base64. */
const NUMPY = {
  // (np.arange(6, dtype='<f4').reshape(2, 3) * 1.5 - 2), format 1.0
  f4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAADAAAAAvwAAgD8AACBAAACAQAAAsEA=',
  // np.array([[[0, 255], [7, 128]]], dtype=np.uint8), format 2.0
  u1v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMSwgMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoA/weA',
  // np.array([-32768, 32767, -1], dtype='<i2')
  i2: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGkyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAgP9///8=',
  // np.array([1e300, -0.1, 3.25], dtype='<f8').reshape(3, 1)
  f8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsIDEpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqcdQCIPOQ3fpqZmZmZmbm/AAAAAAAACkA=',
};

function numpyFile(key: keyof typeof NUMPY): string {
  const file = path(`${key}.npy`);
  writeFileSync(file, Buffer.from(NUMPY[key], 'base64'));
  return file;
}

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** An .npy file with a hand-written header dict (format 1.0, padded to 64 bytes) and raw body. */
function handMade(dict: string, body: Uint8Array): string {
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const head = Buffer.alloc(total, 0x20);
  head.write('\x93NUMPY\x01\x00', 0, 'latin1');
  head.writeUInt16LE(total - 10, 8);
  head.write(dict, 10, 'latin1');
  head[total - 1] = 0x0a;
  const file = path();
  writeFileSync(file, Buffer.concat([head, body]));
  return file;
}

describe('npy header', () => {
  it('writes the NPY 1.0 header byte for byte (padded to 64, numpy layout)', () => {
    const file = path();
    writeNpy(file, Float32Array.from([-2, -0.5, 1, 2.5, 4, 5.5]), [2, 3], '<f4');
    const bytes = readFileSync(file);
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    // 10 prefix bytes + 59 dict characters + '\n' = 70, padded with spaces to 128.
    const expected = Buffer.concat([
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 118, 0x00]),
      Buffer.from(dict + ' '.repeat(128 - 10 - dict.length - 1) + '\n', 'latin1'),
    ]);
    expect(bytes.subarray(0, 128).toString('latin1')).toBe(expected.toString('latin1'));
    expect(bytes.length).toBe(128 + 24);
    // numpy writes the same file for the same array.
    expect(bytes.equals(Buffer.from(NUMPY.f4, 'base64'))).toBe(true);
  });

  it('writes a 1-d shape with a trailing comma, as Python does', () => {
    const file = path();
    writeNpy(file, Int16Array.from([-32768, 32767, -1]), [3], '<i2');
    expect(readFileSync(file).toString('latin1')).toContain("'shape': (3,), }");
    expect(readFileSync(file).equals(Buffer.from(NUMPY.i2, 'base64'))).toBe(true);
  });

  it('reads headers of numpy files in formats 1.0 and 2.0', () => {
    expect(readNpyHeader(numpyFile('f4'))).toEqual({
      dtype: '<f4',
      shape: [2, 3],
      dataOffset: 128,
      rowBytes: 12,
    });
    expect(readNpyHeader(numpyFile('u1v2'))).toEqual({
      dtype: '|u1',
      shape: [1, 2, 2],
      dataOffset: 128,
      rowBytes: 4,
    });
    expect(readNpyHeader(numpyFile('i2'))).toEqual({
      dtype: '<i2',
      shape: [3],
      dataOffset: 128,
      rowBytes: 2,
    });
  });

  it('reads format 3.0 (a UTF-8 header, otherwise 2.0)', () => {
    const bytes = Buffer.from(NUMPY.u1v2, 'base64');
    bytes[6] = 3;
    const file = path();
    writeFileSync(file, bytes);
    expect(readNpy(file).data).toEqual(Float32Array.from([0, 255, 7, 128]));
  });

  it("accepts '<u1' and '<b1' as one-byte types", () => {
    const u1 = handMade(
      "{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }",
      Uint8Array.from([3, 250]),
    );
    expect(readNpy(u1)).toMatchObject({ header: { dtype: '|u1' }, data: Float32Array.from([3, 250]) });
    const b1 = handMade(
      "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
      Uint8Array.from([1, 0, 1]),
    );
    expect(readNpy(b1).data).toEqual(Float32Array.from([1, 0, 1]));
  });

  it('rejects what it cannot read, naming the file', () => {
    const cases: [string, Uint8Array, RegExp][] = [
      [
        "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
        new Uint8Array(4),
        /big-endian dtype '>f4'/,
      ],
      [
        "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
        new Uint8Array(4),
        /Fortran \(column-major\)/,
      ],
      [
        "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
        new Uint8Array(8),
        /dtype '<c8', which is not supported/,
      ],
      [
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
        new Uint8Array(4),
        /structured dtype/,
      ],
      [
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        new Uint8Array(20),
        /truncated: 148 bytes, the header's shape \[2, 3\] needs 152/,
      ],
      [
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
        new Uint8Array(8),
        /has 136 bytes, the header's shape \[1\] needs 132 \(trailing data\)/,
      ],
    ];
    for (const [dict, body, message] of cases) {
      const file = handMade(dict, body);
      expect(() => readNpyHeader(file)).toThrow(message);
      expect(() => readNpyHeader(file)).toThrow(file);
      expect(() => readNpy(file)).toThrow(message);
      expect(() => NpyRows.open(file)).toThrow(message);
    }
    const notNpy = path();
    writeFileSync(notNpy, 'a,b\n1,2\n');
    expect(() => readNpyHeader(notNpy)).toThrow(`${notNpy}: is not a .npy file`);
    expect(() => readNpyHeader(path('missing.npy'))).toThrow(/missing\.npy: cannot open/);
  });
});

describe('npy data', () => {
  it('reads numpy-written data of every layout as float32', () => {
    expect(readNpy(numpyFile('f4')).data).toEqual(Float32Array.from([-2, -0.5, 1, 2.5, 4, 5.5]));
    expect(readNpy(numpyFile('u1v2')).data).toEqual(Float32Array.from([0, 255, 7, 128]));
    expect(readNpy(numpyFile('i2')).data).toEqual(Float32Array.from([-32768, 32767, -1]));
    // float64 narrows to float32; beyond float32's range it becomes Infinity, for the caller to reject.
    expect(readNpy(numpyFile('f8')).data).toEqual(Float32Array.from([Infinity, Math.fround(-0.1), 3.25]));
  });

  const typed: [NpyDtype, ArrayLike<number>][] = [
    ['|u1', [0, 1, 128, 255, 7, 9]],
    ['|i1', [-128, 127, 0, -1, 5, 6]],
    ['|b1', [0, 1, 1, 0, 1, 0]],
    ['<u2', [0, 65535, 300, 1, 2, 3]],
    ['<i2', [-32768, 32767, 0, -300, 2, 3]],
    ['<i4', [-2147483648, 2147483647, 0, -70000, 16777216, 3]],
    ['<f4', [0.1, -1e30, 3.5, 0, -0, 1e-40]],
    ['<f8', [0.1, -1e30, 3.5, 0, 1 / 3, 2 ** 60]],
  ];
  it.each(typed)('round-trips %s through writeNpy, readNpy and NpyRows', (dtype, values) => {
    const file = path();
    writeNpy(file, Float64Array.from(values), [3, 2], dtype);
    const expected = Float32Array.from(values);
    const { header, data } = readNpy(file);
    expect(header.dtype).toBe(dtype);
    expect(header.shape).toEqual([3, 2]);
    expect(header.dataOffset % 64).toBe(0);
    expect(data).toEqual(expected);
    const rows = NpyRows.open(file);
    try {
      const out = new Float32Array(4);
      rows.readRows([2, 0], out);
      expect(out).toEqual(Float32Array.from([expected[4]!, expected[5]!, expected[0]!, expected[1]!]));
    } finally {
      rows.close();
    }
  });

  it('refuses values an integer dtype cannot hold instead of wrapping them', () => {
    const file = path();
    expect(() => writeNpy(file, Float32Array.from([1, 256]), [2], '|u1')).toThrow(
      `${file}: value 256 at index 1 does not fit dtype '|u1'`,
    );
    expect(() => writeNpy(file, Float32Array.from([1.5]), [1], '<i4')).toThrow(/value 1.5 at index 0/);
    expect(() => writeNpy(file, Float64Array.from([NaN]), [1], '<i2')).toThrow(/value NaN at index 0/);
    expect(() => writeNpy(file, new Float32Array(5), [2, 3], '<f4')).toThrow(
      /has 5 values, the shape \[2, 3\] needs 6/,
    );
    expect(() => writeNpy(file, new Float32Array(1), [1], '<c8' as NpyDtype)).toThrow(
      /cannot write dtype '<c8'/,
    );
    expect(existsSync(file)).toBe(false);
  });
});

describe('NpyRows', () => {
  function makeArray(n: number, rowShape: number[], dtype: NpyDtype = '<f4') {
    const rowSize = rowShape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n * rowSize);
    for (let i = 0; i < values.length; i++) values[i] = dtype === '|u1' ? (i * 7) % 256 : i * 0.25 - 100;
    const file = path();
    writeNpy(file, values, [n, ...rowShape], dtype);
    return { file, values, rowSize };
  }

  it('reads rows in any order, with repeats and runs, at an offset', () => {
    const { file, values, rowSize } = makeArray(50, [4, 3]);
    const rows = NpyRows.open(file);
    try {
      expect(rows.n).toBe(50);
      expect(rows.rowShape).toEqual([4, 3]);
      expect(rows.rowSize).toBe(12);
      const indices = Int32Array.from([7, 8, 9, 10, 3, 3, 49, 0, 1, 2, 25]);
      const out = new Float32Array(5 + indices.length * rowSize).fill(-1);
      rows.readRows(indices, out, 5);
      expect(Array.from(out.subarray(0, 5))).toEqual([-1, -1, -1, -1, -1]);
      indices.forEach((r, k) => {
        expect(out.subarray(5 + k * rowSize, 5 + (k + 1) * rowSize)).toEqual(
          values.subarray(r * rowSize, (r + 1) * rowSize),
        );
      });
    } finally {
      rows.close();
    }
  });

  it('splits runs longer than its scratch buffer (rows of 1 MiB, runs of 10)', () => {
    const { file, values, rowSize } = makeArray(10, [512, 512]);
    const rows = NpyRows.open(file);
    try {
      const out = new Float32Array(10 * rowSize);
      rows.readRows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], out);
      // Compared as bytes: deep equality of 2.6 million elements takes vitest most of a minute.
      expect(bytesOf(out).equals(bytesOf(values))).toBe(true);
      rows.readRows([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], out);
      expect(bytesOf(out.subarray(0, rowSize)).equals(bytesOf(values.subarray(9 * rowSize)))).toBe(true);
      expect(bytesOf(out.subarray(9 * rowSize)).equals(bytesOf(values.subarray(0, rowSize)))).toBe(true);
    } finally {
      rows.close();
    }
  });

  it('names the file for a row index out of range and refuses a short output', () => {
    const { file } = makeArray(4, [2], '|u1');
    const rows = NpyRows.open(file);
    try {
      expect(() => rows.readRows([1, 4], new Float32Array(4))).toThrow(
        `${file}: row index 4 is out of range [0, 4)`,
      );
      expect(() => rows.readRows([2, 3, 4], new Float32Array(6))).toThrow(/row index 4 is out of range/);
      expect(() => rows.readRows([-1], new Float32Array(2))).toThrow(/row index -1/);
      expect(() => rows.readRows([0, 1], new Float32Array(3))).toThrow(RangeError);
    } finally {
      rows.close();
    }
    expect(() => rows.readRows([0], new Float32Array(2))).toThrow(/closed/);
  });

  it('refuses a 0-d array', () => {
    const file = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new Uint8Array(4));
    expect(readNpy(file).data).toEqual(Float32Array.from([0]));
    expect(() => NpyRows.open(file)).toThrow(`${file}: is a 0-d array`);
  });
});

describe('NpyWriter', () => {
  it('streams rows in uneven chunks and fixes the row count on close', () => {
    const file = path('stream.npy');
    const w = NpyWriter.create(file, '|u1', [4, 4, 3]);
    const all: number[] = [];
    let v = 0;
    for (const rowsInChunk of [1, 5, 0, 17, 3]) {
      const chunk = new Uint8Array(rowsInChunk * 48);
      for (let i = 0; i < chunk.length; i++) chunk[i] = v++ % 256;
      all.push(...chunk);
      w.append(chunk);
    }
    expect(w.n).toBe(26);
    // Not visible under its name until closed.
    expect(existsSync(file)).toBe(false);
    w.close();
    expect(readdirSync(dir).filter((f) => f.includes('stream.npy'))).toEqual([file.slice(dir.length + 1)]);
    const { header, data } = readNpy(file);
    expect(header).toEqual({ dtype: '|u1', shape: [26, 4, 4, 3], dataOffset: 128, rowBytes: 48 });
    expect(data).toEqual(Float32Array.from(all));
    expect(statSync(file).size).toBe(128 + 26 * 48);
    expect(readFileSync(file).subarray(10, 128).toString('latin1')).toMatch(
      /^\{'descr': '\|u1', 'fortran_order': False, 'shape': \(26, 4, 4, 3\), \} +\n$/,
    );
  });

  it('writes an empty array when nothing is appended, and a 1-d array for an empty row shape', () => {
    const empty = path();
    NpyWriter.create(empty, '<f4', [3]).close();
    expect(readNpyHeader(empty).shape).toEqual([0, 3]);
    const flat = path();
    const w = NpyWriter.create(flat, '<f8', []);
    w.append(Float64Array.from([1.5, 2.5]));
    w.close();
    expect(readNpy(flat)).toMatchObject({ header: { shape: [2] }, data: Float32Array.from([1.5, 2.5]) });
  });

  it('rejects partial rows and out-of-range values without writing them; abort leaves the target alone', () => {
    const file = path();
    writeNpy(file, Float32Array.from([9]), [1], '<f4');
    const w = NpyWriter.create(file, '|u1', [2]);
    expect(() => w.append(new Uint8Array(3))).toThrow(
      `${file}: append got 3 values, not a whole number of rows of 2`,
    );
    expect(() => w.append(Float32Array.from([0, 300]))).toThrow(
      /value 300 at index 1 does not fit dtype '\|u1'/,
    );
    w.append(Uint8Array.from([1, 2]));
    expect(w.n).toBe(1);
    w.abort();
    expect(readNpy(file).data).toEqual(Float32Array.from([9]));
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(() => w.append(Uint8Array.from([1, 2]))).toThrow(/closed/);
    expect(() => NpyWriter.create(path(), '|u1', [0, 3])).toThrow(/row shape \[0, 3\] has no values/);
  });
});
