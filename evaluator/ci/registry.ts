/** The CI tests selectable by name (CLI `--test`, bootstrap resamples), and their construction. */
import type { Table } from '../../common/matrix.js';
import type { CiTest } from './ci-test.js';
import { FisherZTest } from './fisher-z.js';
import { KciTest } from './kci.js';

export const CI_TEST_KINDS = ['fisherz', 'kci'] as const;
export type CiTestKind = (typeof CI_TEST_KINDS)[number];

/** A fresh CI test of the given kind over the columns of `table`. */
export function createCiTest(kind: CiTestKind, table: Table): CiTest {
  switch (kind) {
    case 'fisherz':
      return new FisherZTest(table);
    case 'kci':
      return new KciTest(table);
  }
}
