/** Hyperparameter search for studies: spaces, samplers, pruners and Pareto ranking, all pure. */
export * from './space.js';
export * from './history.js';
export * from './pareto.js';
export * from './sampler.js';
export * from './pruner.js';
export * from './samplers/random.js';
export * from './samplers/grid.js';
export * from './samplers/tpe.js';
export * from './samplers/tpe-split.js';
export * from './samplers/parzen-estimator.js';
export * from './samplers/uniform.js';
export * from './pruners/none.js';
export * from './pruners/median.js';
export * from './pruners/asha.js';
