/** The PC algorithm and its parts: skeleton, colliders, Meek's rules, background knowledge, bootstrap. */
export {
  Background,
  parseBackground,
  readBackground,
  type BackgroundSpec,
  type TierSpec,
} from './background.js';
export { bootstrapPc, type BootstrapOptions, type BootstrapResult, type EdgeFrequency } from './bootstrap.js';
export { CL_ARROW, CL_TAIL, fromCausalLearnMatrix, toCausalLearnMatrix } from './causal-learn.js';
export {
  COLLIDER_PRIORITIES,
  COLLIDER_RULES,
  orientColliders,
  priorityFromCausalLearn,
  RULE_DEFAULT_PRIORITY,
  type ColliderOptions,
  type ColliderPriority,
  type ColliderResult,
  type ColliderRule,
} from './colliders.js';
export { cpdagOfDag } from './cpdag.js';
export { applyDefiniteMeekRules, applyMeekRules, type MeekOptions } from './meek.js';
export { orientByBackground } from './orient-background.js';
export {
  pc,
  PC_DEFAULTS,
  pcOnTable,
  resolvePcOptions,
  type PcOptions,
  type PcResult,
  type PcTableOptions,
  type ResolvedPcOptions,
} from './pc.js';
export { ARROW, NONE, Pdag, TAIL, type Mark } from './pdag.js';
export { Sepsets } from './sepsets.js';
export { randomDag, randomLinearSem, sampleLinearSem, type LinearSem } from './simulate.js';
export { discoverSkeleton, type SkeletonOptions, type SkeletonResult } from './skeleton.js';
export { adjacencyPairs, kites, triangles, unshieldedTriples, type Kite, type Triple } from './triples.js';
