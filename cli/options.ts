/**
 * Parsers for CLI flag values. Each names the flag in its error so `--dims -3` says which flag
 * and why, instead of a NaN surfacing three modules later.
 */
import { InvalidArgumentError } from 'commander';

export function integerFlag(flag: string, opts: { min?: number; max?: number } = {}) {
  return (value: string): number => {
    const trimmed = value.trim();
    if (!/^[+-]?\d+$/.test(trimmed))
      throw new InvalidArgumentError(`${flag} must be an integer, got "${value}"`);
    const n = Number(trimmed);
    checkRange(flag, n, opts);
    return n;
  };
}

export function numberFlag(flag: string, opts: { min?: number; max?: number; exclusiveMin?: boolean } = {}) {
  return (value: string): number => {
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isFinite(n)) {
      throw new InvalidArgumentError(`${flag} must be a finite number, got "${value}"`);
    }
    if (opts.exclusiveMin && opts.min !== undefined && n <= opts.min) {
      throw new InvalidArgumentError(`${flag} must be greater than ${opts.min}, got ${n}`);
    }
    checkRange(flag, n, opts);
    return n;
  };
}

export function booleanFlag(flag: string) {
  return (value: string): boolean => {
    const v = value.trim().toLowerCase();
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
    throw new InvalidArgumentError(`${flag} must be true or false, got "${value}"`);
  };
}

export function choiceFlag<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  };
}

function checkRange(flag: string, n: number, opts: { min?: number; max?: number }): void {
  if (opts.min !== undefined && n < opts.min) {
    throw new InvalidArgumentError(`${flag} must be at least ${opts.min}, got ${n}`);
  }
  if (opts.max !== undefined && n > opts.max) {
    throw new InvalidArgumentError(`${flag} must be at most ${opts.max}, got ${n}`);
  }
}

/** Prints a result as pretty JSON on stdout: machine-readable first, since scripts consume it. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
