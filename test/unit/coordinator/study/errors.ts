import { CrlError } from '../../../../common/errors.js';

/** The CrlError `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): CrlError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CrlError) return err;
    throw err;
  }
  throw new Error('expected a CrlError, nothing was thrown');
}
