/**
 * The coordinator process in one call: trainer registry, trial lifecycle, CoordinatorService on
 * gRPC and, when asked, Prometheus metrics. Tests and the local cluster launcher start it in
 * process; `trials` and `registry` are returned for them to drive and inspect directly.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CrlError, invalidArgument } from '../common/errors.js';
import { KvStudyStore, type StudyStore } from './study/store.js';
import {
  coordinatorMetrics,
  createRegistry,
  serveMetrics,
  type RunningMetricsServer,
} from '../common/metrics/index.js';
import { startGrpcServer } from '../common/rpc/server.js';
import { startTrainerAutoscaler, type TrainerAutoscaler } from '../deploy/kubernetes/autoscaler.js';
import type { TrainerLauncher } from '../deploy/kubernetes/launcher.js';
import { CoordinatorServiceService } from '../proto/gen/crl/v1/coordinator.js';
import { TrainerRegistry } from './registry.js';
import { coordinatorService } from './service.js';
import { StudyManager } from './study/manager.js';
import { studyService } from './study/service.js';
import { TrialManager } from './trials.js';
import { StudyServiceService } from '../proto/gen/crl/v1/study.js';

export interface CoordinatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** The NATS server trainer groups sync over (told to trainers at registration and on JoinTrial). */
  natsUrl: string;
  /** host:port of the EvaluatorService. */
  evaluatorAddress: string;
  /** Serve /metrics on this port (0: a free one); no metrics endpoint when absent. */
  metricsPort?: number;
  /** Default: `host`. */
  metricsHost?: string;
  /** How often trainers are asked to heartbeat. Default 1000 ms. */
  heartbeatIntervalMs?: number;
  /** Silence after which a trainer is declared dead. Default 5000 ms. */
  heartbeatTimeoutMs?: number;
  maxMessageBytes?: number;
  /**
   * Keep studies in JetStream KV on `natsUrl` and resume the saved ones at start (what
   * `crl serve coordinator` does); off, studies live in memory only.
   */
  persistStudies?: boolean;
  /** Shared directory for study trial checkpoints (retries resume from them); none: retries restart. */
  checkpointDir?: string;
  /**
   * Starts and stops trainers as `trainerDemand` asks (deploy/kubernetes/autoscaler.ts). The
   * caller owns it: stop() stops driving it but does not close it.
   */
  launcher?: TrainerLauncher;
  /** Trainers the work in hand needs. Default: busy trainers plus what running studies could start now. */
  trainerDemand?: () => number;
  /** The most trainers asked of the launcher. Default: no limit beyond the launcher's. */
  maxTrainers?: number;
  /** How often the launcher is driven besides on registry changes. Default 2000 ms. */
  launcherIntervalMs?: number;
}

export interface RunningCoordinator {
  readonly port: number;
  /** host:port, as clients dial it. */
  readonly address: string;
  /** http://host:port/metrics, when metrics are served. */
  readonly metricsUrl: string | undefined;
  readonly trials: TrialManager;
  readonly studies: StudyManager;
  readonly registry: TrainerRegistry;
  /** Cancels running trials (releasing their trainers), then stops serving. */
  stop(): Promise<void>;
}

export async function startCoordinator(opts: CoordinatorOptions): Promise<RunningCoordinator> {
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 1000;
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 5000;
  if (!(Number.isInteger(heartbeatIntervalMs) && heartbeatIntervalMs > 0)) {
    throw invalidArgument(`must be a positive integer, got ${heartbeatIntervalMs}`, {
      field: 'heartbeatIntervalMs',
    });
  }
  if (!(heartbeatTimeoutMs > heartbeatIntervalMs)) {
    throw invalidArgument(
      `must exceed heartbeatIntervalMs (${heartbeatIntervalMs}), got ${heartbeatTimeoutMs}: one late heartbeat would kill a trainer`,
      { field: 'heartbeatTimeoutMs' },
    );
  }
  if (opts.natsUrl === '') throw invalidArgument('the NATS URL is required', { field: 'natsUrl' });
  if (opts.evaluatorAddress === '') {
    throw invalidArgument('the evaluator address is required', { field: 'evaluatorAddress' });
  }

  const promRegistry = createRegistry('coordinator');
  const metrics = coordinatorMetrics(promRegistry);
  const registry = new TrainerRegistry({ heartbeatTimeoutMs });
  const updateTrainers = (): void => {
    const counts = registry.counts();
    metrics.trainers.set({ state: 'idle' }, counts.idle);
    metrics.trainers.set({ state: 'busy' }, counts.busy);
  };
  registry.onChange(updateTrainers);
  registry.onDeath(() => metrics.heartbeatsMissed.inc());
  updateTrainers();

  const trials = new TrialManager({
    registry,
    natsUrl: opts.natsUrl,
    evaluatorAddress: opts.evaluatorAddress,
    metrics,
    ...(opts.maxMessageBytes === undefined ? {} : { maxMessageBytes: opts.maxMessageBytes }),
  });

  let nc: NatsConnection | undefined;
  let store: StudyStore | undefined;
  if (opts.persistStudies === true) {
    try {
      nc = await connect({ servers: opts.natsUrl, name: 'crl-coordinator' });
    } catch (err) {
      await trials.close();
      registry.close();
      throw new CrlError(
        'FAILED_PRECONDITION',
        `cannot reach NATS at ${opts.natsUrl} for the study store: ${(err as Error).message}`,
        { field: 'natsUrl' },
      );
    }
    try {
      store = await KvStudyStore.open(nc);
    } catch (err) {
      await nc.close();
      await trials.close();
      registry.close();
      throw new CrlError(
        'FAILED_PRECONDITION',
        `cannot open the study store on ${opts.natsUrl} (is JetStream on?): ${(err as Error).message}`,
      );
    }
  }
  const studies = new StudyManager({
    trials,
    registry,
    ...(store === undefined ? {} : { store }),
    ...(opts.checkpointDir === undefined ? {} : { checkpointRoot: opts.checkpointDir }),
    metrics,
    ...(opts.launcher === undefined
      ? {}
      : {
          trainerProblems: () =>
            (opts.launcher?.problems() ?? []).map((p) => `${p.pod} ${p.reason}: ${p.message}`),
        }),
  });

  let metricsServer: RunningMetricsServer | undefined;
  let grpc;
  try {
    grpc = await startGrpcServer({
      ...(opts.host === undefined ? {} : { host: opts.host }),
      ...(opts.port === undefined ? {} : { port: opts.port }),
      ...(opts.maxMessageBytes === undefined ? {} : { maxMessageBytes: opts.maxMessageBytes }),
      services: [
        {
          definition: CoordinatorServiceService,
          implementation: coordinatorService({
            trials,
            registry,
            natsUrl: opts.natsUrl,
            heartbeatIntervalMs,
          }),
        },
        { definition: StudyServiceService, implementation: studyService(studies) },
      ],
    });
    if (opts.metricsPort !== undefined) {
      metricsServer = await serveMetrics(promRegistry, {
        host: opts.metricsHost ?? opts.host ?? '127.0.0.1',
        port: opts.metricsPort,
      });
    }
  } catch (err) {
    await grpc?.stop(0);
    await studies.close();
    await trials.close();
    registry.close();
    throw err;
  }
  const server = grpc;

  let autoscaler: TrainerAutoscaler | undefined;
  if (opts.launcher !== undefined) {
    autoscaler = startTrainerAutoscaler({
      registry,
      launcher: opts.launcher,
      // By default: the trainers at work plus those the running studies could start trials on now.
      demand: opts.trainerDemand ?? ((): number => registry.counts().busy + studies.pendingTrainerDemand()),
      ...(opts.maxTrainers === undefined ? {} : { maxTrainers: opts.maxTrainers }),
      ...(opts.launcherIntervalMs === undefined ? {} : { intervalMs: opts.launcherIntervalMs }),
    });
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // No new trainers for a coordinator that is going away.
      await autoscaler?.stop();
      await studies.close();
      await trials.close();
      await nc?.close();
      registry.close();
      await server.stop();
      await metricsServer?.stop();
    })();
    return stopped;
  };
  const resumed = await studies.resume();
  if (resumed > 0)
    console.error(
      `coordinator: resumed ${resumed} running stud${resumed === 1 ? 'y' : 'ies'} from the store`,
    );
  return {
    port: server.port,
    address: server.address,
    metricsUrl: metricsServer?.url,
    trials,
    studies,
    registry,
    stop,
  };
}
