/** What a trainer process exports: training progress, sync waits over NATS, and traffic. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { decadeBuckets } from './buckets.js';

export interface TrainerMetrics {
  steps: Counter<'trial'>;
  stepDuration: Histogram;
  samples: Counter<'trial' | 'modality'>;
  syncWait: Histogram<'round'>;
  natsSentBytes: Counter;
  natsReceivedBytes: Counter;
  rejectedMessages: Counter<'reason'>;
  activeTrials: Gauge;
}

export function trainerMetrics(registry: Registry): TrainerMetrics {
  const registers = [registry];
  return {
    steps: new Counter({
      name: 'crl_trainer_steps_total',
      help: 'Optimiser steps completed, per trial.',
      labelNames: ['trial'] as const,
      registers,
    }),
    stepDuration: new Histogram({
      name: 'crl_trainer_step_duration_seconds',
      help: 'Wall time of one training step (encode, sync, loss, update), in seconds.',
      buckets: decadeBuckets(1e-3, 10),
      registers,
    }),
    samples: new Counter({
      name: 'crl_trainer_samples_total',
      help: 'Rows processed by training steps, per trial and modality.',
      labelNames: ['trial', 'modality'] as const,
      registers,
    }),
    syncWait: new Histogram({
      name: 'crl_trainer_sync_wait_seconds',
      help: 'Time spent waiting for peers in one sync round (latent gather or gradient reduce), in seconds.',
      labelNames: ['round'] as const,
      buckets: decadeBuckets(5e-5, 5),
      registers,
    }),
    natsSentBytes: new Counter({
      name: 'crl_nats_sent_bytes_total',
      help: 'Payload bytes published to NATS.',
      registers,
    }),
    natsReceivedBytes: new Counter({
      name: 'crl_nats_received_bytes_total',
      help: 'Payload bytes received from NATS.',
      registers,
    }),
    rejectedMessages: new Counter({
      name: 'crl_sync_rejected_messages_total',
      help: 'Sync messages dropped as invalid (wrong version, shape, sender or round), per reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    activeTrials: new Gauge({
      name: 'crl_trainer_active_trials',
      help: 'Trials this trainer is currently working on.',
      registers,
    }),
  };
}
