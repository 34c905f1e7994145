/** Phenotype analysis: PC over a run's learned latents joined with extra tabular variables. */
export {
  DEFAULT_ID_COLUMN,
  DROPPED_EXAMPLES,
  joinLatentsWithTabular,
  parseJoinSource,
  readJoinSource,
  type JoinMode,
  type JoinResult,
  type JoinSource,
} from './join.js';
export {
  drawingGroupOf,
  groupVariables,
  TABULAR_GROUP,
  type Grouping,
  type VariableGroup,
} from './groups.js';
export {
  buildAnalysis,
  formatReport,
  type Analysis,
  type AnalysisContext,
  type EdgeCounts,
  type LatentEdge,
  type LatentEdgeKind,
  type LatentEntry,
} from './report.js';
export { modalityNamesOf, readModalityNames, readRunLatents, type RunLatents } from './run-dir.js';
