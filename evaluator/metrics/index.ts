/** Identifiability metrics: MCC and R² for latents, SHD for graphs, and their building blocks. */
export {
  alignedMcc,
  alignedMccOf,
  modalityCodesByName,
  type AlignedMcc,
  type AlignmentBlock,
  type ModalityCode,
} from './aligned-mcc.js';
export { linearSumAssignment, type Assignment, type CostMatrix } from './assignment.js';
export {
  averageRanks,
  correlationMatrix,
  type CorrelationMatrix,
  type CorrelationMethod,
  type CorrelationOptions,
} from './correlation.js';
export {
  latentGroups,
  requireFinite,
  requireSameRows,
  selectByName,
  splitByGroups,
  type InputLabels,
  type ModalityGroups,
} from './inputs.js';
export {
  fitKernelRidge,
  predictKernelRidge,
  rbfKernel,
  type KernelRidgeModel,
  type KernelRidgeParams,
} from './kernel-ridge.js';
export {
  blockMatching,
  matchingToRelabel,
  mcc,
  type MatchedPair,
  type MccOptions,
  type MccResult,
  type MccScore,
} from './mcc.js';
export {
  DEFAULT_R2_ALPHA,
  DEFAULT_R2_MAX_TRAIN,
  DEFAULT_R2_SEED,
  DEFAULT_R2_TEST_FRACTION,
  kernelRidgeR2,
  type R2Options,
  type R2Protocol,
  type R2Result,
  type R2Score,
} from './r2.js';
export { shd, shdOf, type EdgeDifference, type ShdMode, type ShdOptions, type ShdResult } from './shd.js';
