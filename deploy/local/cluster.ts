/**
 * The local cluster: a real nats-server (JetStream on, loopback, random port), the evaluator, the
 * coordinator and N trainers, each its own process on 127.0.0.1 with random free ports, exactly
 * the services a Kubernetes deployment runs. `stop()` takes them down in reverse order.
 */
import { credentials } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrlError } from '../../common/errors.js';
import { startNatsServer, type RunningNatsServer } from '../../common/nats-server.js';
import { clientOptions } from '../../common/rpc/server.js';
import { CoordinatorServiceClient, type TrainerInfo } from '../../proto/gen/crl/v1/coordinator.js';
import { ServiceProcess } from './service-process.js';

export interface LocalClusterOptions {
  trainers: number;
  /** Serve /metrics on every service (random ports). */
  metrics?: boolean;
  backend?: string;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** Each service's stderr lines. */
  onLog?: (service: string, line: string) => void;
  /** Study trial checkpoints (shared by all processes here); default a temporary directory removed at stop. */
  checkpointDir?: string;
}

export interface LocalCluster {
  nats: RunningNatsServer;
  evaluator: ServiceProcess;
  coordinator: ServiceProcess;
  trainers: ServiceProcess[];
  /** host:port of the coordinator. */
  address: string;
  /** Every /metrics URL by service name (when metrics are on). */
  metricsUrls: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const started: ServiceProcess[] = [];
  const log = o.onLog === undefined ? {} : { onLog: o.onLog };
  const metricsArgs = o.metrics === true ? ['--metrics-port', '0'] : [];
  const nats = await startNatsServer();
  const checkpointDir = o.checkpointDir ?? mkdtempSync(join(tmpdir(), 'crl-checkpoints-'));
  const stopAll = async (): Promise<void> => {
    for (const p of [...started].reverse()) await p.stop();
    await nats.stop();
    if (o.checkpointDir === undefined) rmSync(checkpointDir, { recursive: true, force: true });
  };
  try {
    const evaluator = await ServiceProcess.start('evaluator', ['evaluator', ...metricsArgs], log);
    started.push(evaluator);
    const coordinator = await ServiceProcess.start(
      'coordinator',
      [
        'coordinator',
        '--nats',
        nats.url,
        '--evaluator',
        evaluator.ready.address,
        '--heartbeat-ms',
        String(o.heartbeatMs ?? 500),
        '--heartbeat-timeout-ms',
        String(o.heartbeatTimeoutMs ?? 3000),
        '--checkpoint-dir',
        checkpointDir,
        ...metricsArgs,
      ],
      log,
    );
    started.push(coordinator);
    const trainers = await Promise.all(
      Array.from({ length: o.trainers }, (_, i) =>
        ServiceProcess.start(
          `trainer t${i + 1}`,
          [
            'trainer',
            '--coordinator',
            coordinator.ready.address,
            '--id',
            `t${i + 1}`,
            '--backend',
            o.backend ?? 'auto',
            ...metricsArgs,
          ],
          log,
        ).then((p) => {
          started.push(p);
          return p;
        }),
      ),
    );
    await waitForTrainers(coordinator.ready.address, o.trainers);
    const metricsUrls: Record<string, string> = {};
    for (const p of [evaluator, coordinator, ...trainers])
      if (p.ready.metrics !== null) metricsUrls[p.name] = p.ready.metrics;
    return {
      nats,
      evaluator,
      coordinator,
      trainers,
      address: coordinator.ready.address,
      metricsUrls,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Resolves when the coordinator lists `count` trainers (they register right after starting). */
export async function waitForTrainers(
  address: string,
  count: number,
  timeoutMs = 30_000,
): Promise<TrainerInfo[]> {
  const client = new CoordinatorServiceClient(address, credentials.createInsecure(), clientOptions());
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const trainers = await new Promise<TrainerInfo[]>((resolve, reject) =>
        client.listTrainers({}, (err, res) => (err === null ? resolve(res.trainers) : reject(err))),
      );
      if (trainers.length >= count) return trainers;
      if (Date.now() > deadline) {
        throw new CrlError(
          'ABORTED',
          `only ${trainers.length} of ${count} trainers registered within ${timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}
