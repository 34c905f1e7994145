/**
 * Outputs written all at once. A directory's files go to a hidden staging directory beside the
 * target, which is renamed into place only when every file is written; a single file goes through
 * a temporary file and a rename. A failure part-way leaves the target as it was (absent, or the
 * previous complete version), never half-written.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CrlError, invalidArgument } from './errors.js';

export class StagedDirectory {
  readonly target: string;
  readonly staging: string;
  private done = false;

  private constructor(target: string, staging: string) {
    this.target = target;
    this.staging = staging;
  }

  /**
   * Refuses an existing non-empty target unless `overwrite` is set, so earlier results are never
   * lost by a repeated command. `flag` names the option the user set, for the error message.
   */
  static open(target: string, opts: { overwrite?: boolean; flag?: string } = {}): StagedDirectory {
    const abs = resolve(target);
    if (existsSync(abs) && readdirSync(abs).length > 0 && !opts.overwrite) {
      throw new CrlError(
        'ALREADY_EXISTS',
        `output directory ${target} exists and is not empty (pass --force to replace it)`,
        { field: opts.flag ?? '--out' },
      );
    }
    const parent = dirname(abs);
    mkdirSync(parent, { recursive: true });
    const staging = join(parent, `.${basename(abs)}.tmp-${process.pid}-${Date.now()}`);
    mkdirSync(staging, { recursive: true });
    return new StagedDirectory(abs, staging);
  }

  /** Writes `relPath` inside the staging directory, creating subdirectories as needed. */
  write(relPath: string, content: string | Uint8Array): void {
    const file = join(this.staging, relPath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }

  /** Moves the staged directory into place, replacing an older target only now. */
  commit(): void {
    if (this.done) return;
    if (existsSync(this.target)) {
      const old = `${this.staging}.old`;
      renameSync(this.target, old);
      renameSync(this.staging, this.target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(this.staging, this.target);
    }
    this.done = true;
  }

  /** Discards everything staged; the target is untouched. */
  abort(): void {
    if (this.done) return;
    rmSync(this.staging, { recursive: true, force: true });
    this.done = true;
  }
}

/** Runs `fill` against a staged directory and commits it, or aborts on any error. */
export function writeDirectoryAtomically<T>(
  target: string,
  opts: { overwrite?: boolean; flag?: string },
  fill: (dir: StagedDirectory) => T,
): T {
  const dir = StagedDirectory.open(target, opts);
  try {
    const result = fill(dir);
    dir.commit();
    return result;
  } catch (err) {
    dir.abort();
    throw err;
  }
}

/** Writes via a temporary file in the same directory and a rename: readers never see half a file. */
export function writeFileAtomically(path: string, text: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw invalidArgument(`cannot create directory: ${(err as Error).message}`, { file: path }, err);
  }
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw invalidArgument(`cannot write output: ${(err as Error).message}`, { file: path }, err);
  }
}
