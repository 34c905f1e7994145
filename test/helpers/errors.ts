import { CrlError } from '../../common/errors.js';

/** The CrlError `fn` throws (anything else is rethrown; no throw fails the test). */
export function errorOf(fn: () => unknown): CrlError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CrlError) return err;
    throw err;
  }
  throw new Error('expected a CrlError');
}
