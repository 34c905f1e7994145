/** Numeric flags of the benches: a typo fails at once, naming the flag, instead of running with NaN. */
export function positiveInt(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return v;
}

export function nonNegativeInt(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return v;
}

export function fraction(name: string, text: string): number {
  const v = Number(text);
  if (!(v > 0 && v < 1)) throw new Error(`--${name} must be a number in (0, 1), got ${text}`);
  return v;
}
