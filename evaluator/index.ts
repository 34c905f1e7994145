/** The evaluator library: identifiability metrics, conditional-independence tests, PC, graph export. */
export * from './metrics/index.js';
export * from './ci/index.js';
export * from './pc/index.js';
export * from './export/index.js';
