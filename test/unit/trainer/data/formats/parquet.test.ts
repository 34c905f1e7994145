import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { makeTable } from '../../../../../common/matrix.js';
import { readParquetTable, writeParquetTable } from '../../../../../trainer/data/formats/parquet.js';
import { tempDir } from '../../../../helpers/tmp.js';

const dir = tempDir('crl-parquet-');
let counter = 0;
const path = () => join(dir, `${counter++}.parquet`);
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('parquet tables', () => {
  it('round-trips IDs and doubles bit for bit, across row groups', async () => {
    const n = 2500; // hyparquet-writer's first row group holds 1000 rows
    const columns = ['age', 'bmi', 'tiny'];
    const data = new Float64Array(n * 3);
    const special = [0.1, -0, 5e-324, Number.MAX_VALUE, 1 / 3, -1e-310];
    for (let i = 0; i < data.length; i++)
      data[i] = special[i % special.length]! * (i % 7 === 0 ? -1 : 1) + i * 1e-3;
    data[3] = -0;
    const ids = Array.from({ length: n }, (_, i) =>
      i % 2 === 0 ? `P${String(i).padStart(5, '0')}` : `00${i}`,
    );
    const file = path();
    writeParquetTable(file, { table: makeTable(columns, n, data), ids });
    const got = await readParquetTable(file, { idColumn: 'participant_id' });
    expect(got.ids).toEqual(ids);
    expect(got.table.columns).toEqual(columns);
    expect(got.table.nRows).toBe(n);
    expect(bits(got.table.data)).toBe(bits(data));
    expect(Object.is(got.table.data[3], -0)).toBe(true);

    const picked = await readParquetTable(file, { idColumn: 'participant_id', columns: ['tiny', 'age'] });
    expect(picked.table.columns).toEqual(['tiny', 'age']);
    expect(picked.table.data[0]).toBe(data[2]);
    expect(picked.table.data[2 * 1999 + 1]).toBe(data[3 * 1999]);
  });

  it('writes and reads without IDs, and writes a chosen subset of columns', async () => {
    const file = path();
    const table = makeTable(['a', 'b', 'c'], 2, Float64Array.from([1, 2, 3, 4, 5, 6]));
    writeParquetTable(file, { table, columns: ['c', 'a'] });
    const got = await readParquetTable(file);
    expect(got.ids).toBeUndefined();
    expect(got.table.columns).toEqual(['c', 'a']);
    expect(Array.from(got.table.data)).toEqual([3, 1, 6, 4]);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('reads int32 and int64 columns and integer IDs', async () => {
    const file = path();
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'id', data: [7n, 123456789012n], type: 'INT64' },
        { name: 'count', data: Int32Array.from([-3, 2147483647]), type: 'INT32' },
        { name: 'big', data: [2n ** 53n - 1n, -5n], type: 'INT64' },
        { name: 'f', data: Float32Array.from([0.5, -1.25]), type: 'FLOAT' },
      ],
    });
    const got = await readParquetTable(file, { idColumn: 'id' });
    expect(got.ids).toEqual(['7', '123456789012']);
    expect(got.table.columns).toEqual(['count', 'big', 'f']);
    expect(Array.from(got.table.data)).toEqual([-3, 2 ** 53 - 1, 0.5, 2147483647, -5, -1.25]);
  });

  it('names file, row and column for null, NaN, infinite and inexact values', async () => {
    const cases: [unknown[], 'DOUBLE' | 'INT64', string][] = [
      [[1.5, 2, null, 4], 'DOUBLE', 'row 3 is null'],
      [[1.5, NaN, 3, 4], 'DOUBLE', 'row 2: NaN is not allowed'],
      [[1.5, 2, 3, -Infinity], 'DOUBLE', 'row 4: -Infinity is not allowed'],
      [[1n, 2n ** 53n + 1n, 3n, 4n], 'INT64', 'row 2: 9007199254740993 is too large to be exact as a double'],
    ];
    for (const [values, type, message] of cases) {
      const file = path();
      parquetWriteFile({
        filename: file,
        columnData: [
          { name: 'ok', data: [1, 2, 3, 4], type: 'DOUBLE' },
          { name: 'bmi', data: values as never, type },
        ],
      });
      await expect(readParquetTable(file)).rejects.toThrow(`${file}, column "bmi": ${message}`);
    }
  });

  it('rejects missing, non-numeric and mis-chosen columns, listing what the file has', async () => {
    const file = path();
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'pid', data: ['a', 'b'], type: 'STRING' },
        { name: 'x', data: [1, 2], type: 'DOUBLE' },
        { name: 'when', data: [new Date(0), new Date(1)], type: 'TIMESTAMP' },
      ],
    });
    await expect(readParquetTable(file, { idColumn: 'pid', columns: ['x', 'weight'] })).rejects.toThrow(
      `${file}: has no column "weight" (columns: pid, x, when)`,
    );
    await expect(readParquetTable(file, { idColumn: 'participant_id' })).rejects.toThrow(
      `${file}: has no participant ID column "participant_id" (columns: pid, x, when)`,
    );
    await expect(readParquetTable(file, { idColumn: 'pid' })).rejects.toThrow(
      `${file}, column "when": is not numeric (INT64/TIMESTAMP_MILLIS)`,
    );
    await expect(readParquetTable(file, { columns: ['pid'] })).rejects.toThrow(
      `${file}, column "pid": is not numeric (BYTE_ARRAY/UTF8)`,
    );
    await expect(readParquetTable(file, { idColumn: 'pid', columns: ['x', 'x'] })).rejects.toThrow(
      `${file}, column "x": is requested twice`,
    );
    await expect(readParquetTable(file, { idColumn: 'pid', columns: ['pid'] })).rejects.toThrow(
      /participant ID column/,
    );
    const ok = await readParquetTable(file, { idColumn: 'pid', columns: ['x'] });
    expect(ok).toEqual({ ids: ['a', 'b'], table: makeTable(['x'], 2, Float64Array.from([1, 2])) });
  });

  it('rejects empty or missing participant IDs', async () => {
    for (const [ids, message] of [
      [['a', ' '], 'row 2: empty participant ID'],
      [[null, 'b'], 'row 1: empty participant ID'],
    ] as const) {
      const file = path();
      parquetWriteFile({
        filename: file,
        columnData: [
          { name: 'pid', data: [...ids], type: 'STRING' },
          { name: 'x', data: [1, 2], type: 'DOUBLE' },
        ],
      });
      await expect(readParquetTable(file, { idColumn: 'pid' })).rejects.toThrow(
        `${file}, column "pid": ${message}`,
      );
    }
  });

  it('rejects files that are not Parquet, naming them', async () => {
    const csv = path();
    writeFileSync(csv, 'a,b\n1,2\n');
    await expect(readParquetTable(csv)).rejects.toThrow(`${csv}: is not a readable Parquet file`);
    const missing = path();
    await expect(readParquetTable(missing)).rejects.toThrow(`${missing}: cannot read Parquet file`);
  });

  it('refuses to write what it would refuse to read', () => {
    const file = path();
    const table = makeTable(['a', 'b'], 2, Float64Array.from([1, 2, NaN, 4]));
    expect(() => writeParquetTable(file, { table })).toThrow(
      `${file}, column "a": row 2: NaN is not allowed`,
    );
    const fine = makeTable(['a'], 2, Float64Array.from([1, 2]));
    expect(() => writeParquetTable(file, { table: fine, ids: ['x'] })).toThrow(
      /1 participant IDs for 2 rows/,
    );
    expect(() => writeParquetTable(file, { table: fine, ids: ['x', ''] })).toThrow(
      /row 2: empty participant ID/,
    );
    expect(() => writeParquetTable(file, { table: fine, ids: ['x', 'y'], idColumn: 'a' })).toThrow(
      /both the ID column and a numeric column/,
    );
    expect(() => writeParquetTable(file, { table: fine, columns: ['z'] })).toThrow(/table has no column "z"/);
    expect(readdirSync(dir).filter((f) => f.startsWith(`${counter - 1}.`) || f.startsWith('.'))).toEqual([]);
  });
});
