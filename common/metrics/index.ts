/** Prometheus metrics: the per-service registry and /metrics endpoint, and each service's metric set. */
export { decadeBuckets } from './buckets.js';
export {
  coordinatorMetrics,
  TRAINER_STATES,
  TRIAL_STATES,
  type CoordinatorMetrics,
  type TrainerStateLabel,
  type TrialStateLabel,
} from './coordinator.js';
export { evaluatorMetrics, type EvaluatorMetrics } from './evaluator.js';
export {
  createRegistry,
  serveMetrics,
  type MetricsServerOptions,
  type RunningMetricsServer,
} from './registry.js';
export { trainerMetrics, type TrainerMetrics } from './trainer.js';
