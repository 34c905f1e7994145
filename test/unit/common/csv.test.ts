import { writeFileSync } from 'node:fs';
import { errorOf } from '../../helpers/errors.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCsv, formatNumber, parseNumericCsv, readNumericCsv } from '../../../common/csv.js';
import { makeTable } from '../../../common/matrix.js';
import { tempDir } from '../../helpers/tmp.js';

describe('numeric CSV', () => {
  it('parses a header and rows, with CRLF, quotes, a BOM and exponents', () => {
    const t = parseNumericCsv('\ufeffa,"b c"\r\n1,2.5e-3\r\n-3,".5"\r\n');
    expect(t.columns).toEqual(['a', 'b c']);
    expect(t.nRows).toBe(2);
    expect(Array.from(t.data)).toEqual([1, 0.0025, -3, 0.5]);
  });

  it('round-trips what it writes to 9 significant digits', () => {
    const t = makeTable(['x', 'y'], 2, Float64Array.from([Math.PI, -1e-12, 123456789.123, 0]));
    const back = parseNumericCsv(formatCsv(t));
    expect(back.columns).toEqual(['x', 'y']);
    back.data.forEach((v, i) => {
      const x = t.data[i] as number;
      expect(Math.abs(v - x)).toBeLessThanOrEqual(5e-9 * Math.abs(x));
    });
  });

  it('formats numbers deterministically at 9 significant digits, never -0', () => {
    expect(formatNumber(1 / 3)).toBe('0.333333333');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(2.5e-10)).toBe('2.5e-10');
    expect(() => formatNumber(Number.NaN)).toThrow(/non-finite/);
  });

  it('names the file, line and column of a ragged row', () => {
    const e = errorOf(() => parseNumericCsv('a,b\n1,2\n3\n', 'obs.csv'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.where).toEqual({ file: 'obs.csv', line: 3 });
    expect(e.message).toMatch(/obs\.csv:3.*1 fields, the header has 2/);
  });

  it.each([
    ['NaN', /NaN is not allowed/],
    ['inf', /inf is not allowed/],
    ['abc', /"abc" is not a number/],
    ['', /empty cell/],
    ['0x10', /"0x10" is not a number/],
  ])('rejects the cell %j naming its column', (cell, message) => {
    const e = errorOf(() => parseNumericCsv(`a,b\n1,2\n3,${cell}\n`, 'z.csv'));
    expect(e.where).toEqual({ file: 'z.csv', line: 3, column: 'b' });
    expect(e.message).toMatch(message);
  });

  it('rejects empty files, blank rows, duplicate and empty headers', () => {
    expect(errorOf(() => parseNumericCsv('', 'e.csv')).message).toMatch(/empty/);
    expect(errorOf(() => parseNumericCsv('a\n1\n\n2\n', 'e.csv')).where.line).toBe(3);
    expect(errorOf(() => parseNumericCsv('a,a\n1,2\n', 'e.csv')).where.column).toBe('a');
    expect(errorOf(() => parseNumericCsv('a,\n1,2\n', 'e.csv')).message).toMatch(/header column 2 is empty/);
  });

  it('reports a missing file by name', () => {
    const dir = tempDir();
    const e = errorOf(() => readNumericCsv(join(dir, 'nope.csv')));
    expect(e.where.file).toBe(join(dir, 'nope.csv'));
    writeFileSync(join(dir, 'ok.csv'), 'q\n7\n');
    expect(Array.from(readNumericCsv(join(dir, 'ok.csv')).data)).toEqual([7]);
  });
});
