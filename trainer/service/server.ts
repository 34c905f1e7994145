/**
 * The trainer as a process: the TrainerService on gRPC, /metrics, and its membership in the
 * cluster: it registers with the coordinator and heartbeats, registering again when the
 * coordinator has forgotten it (restarted, or declared it dead after a pause).
 */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { hostname } from 'node:os';
import {
  createRegistry,
  serveMetrics,
  trainerMetrics,
  type RunningMetricsServer,
} from '../../common/metrics/index.js';
import { clientOptions, startGrpcServer } from '../../common/rpc/server.js';
import { CoordinatorServiceClient } from '../../proto/gen/crl/v1/coordinator.js';
import { TrainerServiceService } from '../../proto/gen/crl/v1/trainer.js';
import { selectBackend } from '../backend/index.js';
import { createTrainerService } from './service.js';

export interface TrainerServerOptions {
  /** Unique in the cluster (default: host name and pid). */
  id?: string;
  host?: string;
  port?: number;
  /** The address peers and the coordinator dial (default host:port). */
  advertise?: string;
  /** Coordinator to register with; none: a standalone trainer driven directly (tests). */
  coordinator?: string;
  metricsPort?: number;
  backend?: string;
  syncTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RunningTrainerServer {
  readonly id: string;
  readonly port: number;
  readonly address: string;
  readonly backend: string;
  readonly metricsUrl?: string;
  stop(): Promise<void>;
}

export async function startTrainerServer(o: TrainerServerOptions = {}): Promise<RunningTrainerServer> {
  const host = o.host ?? '127.0.0.1';
  const id = o.id ?? `${hostname()}-${process.pid}`;
  const log = o.log ?? (() => undefined);
  const backend = await selectBackend(o.backend ?? 'auto');
  const registry = createRegistry('trainer');
  const metrics = trainerMetrics(registry);
  const connections = new Map<string, Promise<NatsConnection>>();
  const nats = (url: string): Promise<NatsConnection> => {
    let c = connections.get(url);
    if (c === undefined) {
      c = connect({ servers: url, name: `crl-trainer-${id}` });
      connections.set(url, c);
      c.catch(() => connections.delete(url));
    }
    return c;
  };
  const service = createTrainerService({
    self: id,
    backend: backend.name,
    nats,
    metrics,
    ...(o.syncTimeoutMs === undefined ? {} : { syncTimeoutMs: o.syncTimeoutMs }),
  });
  const grpc = await startGrpcServer({
    host,
    port: o.port ?? 0,
    services: [{ definition: TrainerServiceService, implementation: service }],
  });
  let metricsServer: RunningMetricsServer | undefined;
  if (o.metricsPort !== undefined)
    metricsServer = await serveMetrics(registry, { host, port: o.metricsPort });
  const address = o.advertise ?? grpc.address;

  let heartbeat: NodeJS.Timeout | undefined;
  let client: CoordinatorServiceClient | undefined;
  if (o.coordinator !== undefined) {
    client = new CoordinatorServiceClient(o.coordinator, credentials.createInsecure(), clientOptions());
    const c = client;
    const register = (): Promise<number> =>
      new Promise((resolve, reject) =>
        c.registerTrainer({ trainerId: id, address, backend: backend.name }, (err, res) =>
          err === null ? resolve(res.heartbeatIntervalMs) : reject(err),
        ),
      );
    let interval = 1000;
    try {
      interval = (await register()) || interval;
    } catch (err) {
      await grpc.stop(0);
      await metricsServer?.stop();
      throw err;
    }
    log(`trainer ${id} registered with ${o.coordinator} (backend ${backend.name})`);
    const beat = (): void => {
      c.heartbeat({ trainerId: id, trialId: service.current() }, (err: ServiceError | null) => {
        if (err === null) return;
        // NOT_FOUND: the coordinator no longer knows us; anything else is retried next beat.
        if (err.code === 5)
          register().then(
            () => log(`trainer ${id} registered again`),
            () => undefined,
          );
      });
    };
    heartbeat = setInterval(beat, interval);
  }

  return {
    id,
    port: grpc.port,
    address,
    backend: backend.name,
    ...(metricsServer !== undefined ? { metricsUrl: metricsServer.url } : {}),
    stop: async () => {
      if (heartbeat !== undefined) clearInterval(heartbeat);
      client?.close();
      await grpc.stop(1000);
      await metricsServer?.stop();
      for (const c of connections.values()) await c.then((nc) => nc.close()).catch(() => undefined);
    },
  };
}
