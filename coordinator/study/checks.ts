/** Checks for sampler and pruner settings, which arrive from a user's study file. */
import { invalidArgument } from '../../common/errors.js';

export function checkInteger(value: unknown, min: number, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalidArgument(`must be an integer ≥ ${min}, got ${JSON.stringify(value)}`, { field });
  }
  return value;
}

/** A finite number above `exclusiveMin` and at most `max`. */
export function checkNumber(value: unknown, exclusiveMin: number, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= exclusiveMin || value > max) {
    const range = max === Infinity ? `> ${exclusiveMin}` : `in (${exclusiveMin}, ${max}]`;
    throw invalidArgument(`must be a number ${range}, got ${JSON.stringify(value)}`, { field });
  }
  return value;
}

export function checkSeed(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidArgument(`a seed must be an integer, got ${JSON.stringify(value)}`, { field });
  }
  return value;
}

export function checkTrialNumber(number: number): void {
  if (!Number.isSafeInteger(number) || number < 0) {
    throw invalidArgument(`a trial number is a non-negative integer, got ${number}`, { field: 'number' });
  }
}
