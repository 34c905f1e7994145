/** Conditional-independence tests: Fisher-z, KCI, the d-separation oracle, and their base class. */
export { CiTest, CiTestError, type CiFailure } from './ci-test.js';
export { columnScale, dataCorrelation, type ColumnScale } from './correlation.js';
export { dSeparated, DSeparationTest } from './d-separation.js';
export { FisherZTest, type CorrelationInput, type FisherZOptions } from './fisher-z.js';
export { hsicWidth, kciWidth, KciTest, type KciOptions } from './kci.js';
export { CI_TEST_KINDS, createCiTest, type CiTestKind } from './registry.js';
export { chiSquareSf, erfc, gammaQ, gammaSf, logGamma, normalSf } from './special-functions.js';
