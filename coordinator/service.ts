/**
 * CoordinatorService over gRPC: a thin layer that checks required fields and hands everything to
 * the trial lifecycle and the trainer registry, whose CrlErrors become gRPC statuses.
 */
import { invalidArgument } from '../common/errors.js';
import { unaryHandler, watchHandler } from '../common/rpc/status.js';
import type { CoordinatorServiceServer, TrainerInfo } from '../proto/gen/crl/v1/coordinator.js';
import type { TrainerRegistry } from './registry.js';
import { isTerminal, type TrialManager } from './trials.js';

export interface CoordinatorServiceDeps {
  trials: TrialManager;
  registry: TrainerRegistry;
  /** Told to every trainer that registers, for its groups to sync over. */
  natsUrl: string;
  heartbeatIntervalMs: number;
}

export function coordinatorService(deps: CoordinatorServiceDeps): CoordinatorServiceServer {
  const { trials, registry } = deps;
  return {
    submitTrial: unaryHandler((req) => ({
      trial: trials.submit({ spec: req.spec, trainers: req.trainers, replicas: req.replicas }),
    })),

    getTrial: unaryHandler((req) => ({ trial: trials.get(req.trialId) })),

    cancelTrial: unaryHandler(async (req) => ({ trial: await trials.cancel(req.trialId) })),

    // watch() throws NOT_FOUND before calling the listener; the handler turns it into the status.
    watchTrial: watchHandler((req, emit) =>
      trials.watch(req.trialId, (event) =>
        emit({ trial: event.trial, message: event.message }, isTerminal(event.trial.state)),
      ),
    ),

    listTrainers: unaryHandler(() => ({
      trainers: registry.list().map((t): TrainerInfo => ({
        trainerId: t.id,
        address: t.address,
        backend: t.backend,
        trialId: t.trialId ?? '',
        lastHeartbeatMs: t.lastHeartbeatMs,
      })),
    })),

    registerTrainer: unaryHandler((req) => {
      registry.register(req.trainerId, req.address, req.backend);
      return { heartbeatIntervalMs: deps.heartbeatIntervalMs, natsUrl: deps.natsUrl };
    }),

    heartbeat: unaryHandler((req) => {
      if (req.trainerId === '') throw invalidArgument('a trainer id is required', { field: 'trainer_id' });
      registry.heartbeat(req.trainerId);
      return {};
    }),
  };
}
