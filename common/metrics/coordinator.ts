/** What the coordinator exports: trials and trainers by state, trial durations, missed heartbeats. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { decadeBuckets } from './buckets.js';

export const TRIAL_STATES = ['pending', 'running', 'evaluating', 'succeeded', 'failed', 'cancelled'] as const;
export type TrialStateLabel = (typeof TRIAL_STATES)[number];

export const TRAINER_STATES = ['idle', 'busy'] as const;
export type TrainerStateLabel = (typeof TRAINER_STATES)[number];

export interface CoordinatorMetrics {
  trials: Gauge<'state'>;
  trainers: Gauge<'state'>;
  trialDuration: Histogram;
  heartbeatsMissed: Counter;
  studyBest: Gauge<'study' | 'name' | 'objective'>;
}

export function coordinatorMetrics(registry: Registry): CoordinatorMetrics {
  const registers = [registry];
  const metrics: CoordinatorMetrics = {
    trials: new Gauge({
      name: 'crl_trials',
      help: 'Trials known to the coordinator, per state.',
      labelNames: ['state'] as const,
      registers,
    }),
    trainers: new Gauge({
      name: 'crl_trainers',
      help: 'Registered trainers, per state.',
      labelNames: ['state'] as const,
      registers,
    }),
    trialDuration: new Histogram({
      name: 'crl_trial_duration_seconds',
      help: 'Wall time of a finished trial from first start to its final state, in seconds.',
      buckets: decadeBuckets(1, 1e5),
      registers,
    }),
    heartbeatsMissed: new Counter({
      name: 'crl_trainer_heartbeats_missed_total',
      help: 'Trainer heartbeats not received by their deadline.',
      registers,
    }),
    studyBest: new Gauge({
      name: 'crl_study_best_value',
      help: 'Best value of each objective over the complete trials of a study, in its direction (the Pareto front covers several).',
      labelNames: ['study', 'name', 'objective'] as const,
      registers,
    }),
  };
  // Every state is exported from the start: a state that appears only once it is non-zero makes
  // dashboards and alerts (absent vs 0) behave differently before and after.
  for (const s of TRIAL_STATES) metrics.trials.set({ state: s }, 0);
  for (const s of TRAINER_STATES) metrics.trainers.set({ state: s }, 0);
  return metrics;
}
