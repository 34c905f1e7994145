import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDirectoryAtomically } from '../../../common/output-dir.js';
import { tempDir } from '../../helpers/tmp.js';

describe('writeDirectoryAtomically', () => {
  const root = tempDir();

  it('writes all files or none', () => {
    const target = join(root, 'out');
    expect(() =>
      writeDirectoryAtomically(target, {}, (dir) => {
        dir.write('a.txt', 'a');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(root)).toEqual([]); // no staging leftovers
    writeDirectoryAtomically(target, {}, (dir) => dir.write('sub/b.txt', 'b'));
    expect(readFileSync(join(target, 'sub/b.txt'), 'utf8')).toBe('b');
  });

  it('never replaces earlier results unless asked, and then only when complete', () => {
    const target = join(root, 'keep');
    mkdirSync(target);
    writeFileSync(join(target, 'old.txt'), 'precious');
    expect(() => writeDirectoryAtomically(target, { flag: '--out' }, (d) => d.write('x', 'y'))).toThrow(
      /--out.*exists and is not empty.*--force/,
    );
    expect(() =>
      writeDirectoryAtomically(target, { overwrite: true }, () => {
        throw new Error('half-way');
      }),
    ).toThrow('half-way');
    expect(readFileSync(join(target, 'old.txt'), 'utf8')).toBe('precious');
    writeDirectoryAtomically(target, { overwrite: true }, (d) => d.write('new.txt', 'n'));
    expect(readdirSync(target)).toEqual(['new.txt']);
  });
});
