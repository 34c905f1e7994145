/** The evaluator as a process: the gRPC service, plus a Prometheus endpoint when asked for. */
import type { Registry } from 'prom-client';
import { evaluatorMetrics } from '../../common/metrics/evaluator.js';
import { createRegistry, serveMetrics, type RunningMetricsServer } from '../../common/metrics/registry.js';
import { startGrpcServer } from '../../common/rpc/server.js';
import { EvaluatorServiceService } from '../../proto/gen/crl/v1/evaluator.js';
import { createEvaluatorService } from './service.js';

export interface EvaluatorServerOptions {
  /** Default 127.0.0.1 (both servers). */
  host?: string;
  /** gRPC port; default 0 (random). */
  port?: number;
  /** /metrics port: undefined serves no metrics, 0 a random port. */
  metricsPort?: number;
}

export interface RunningEvaluatorServer {
  readonly port: number;
  readonly address: string;
  readonly metricsUrl?: string;
  readonly registry: Registry;
  stop(): Promise<void>;
}

export async function startEvaluatorServer(
  options: EvaluatorServerOptions = {},
): Promise<RunningEvaluatorServer> {
  const host = options.host ?? '127.0.0.1';
  const registry = createRegistry('evaluator');
  const implementation = createEvaluatorService({ metrics: evaluatorMetrics(registry) });
  const grpc = await startGrpcServer({
    host,
    port: options.port ?? 0,
    services: [{ definition: EvaluatorServiceService, implementation }],
  });
  let metrics: RunningMetricsServer | undefined;
  if (options.metricsPort !== undefined) {
    try {
      metrics = await serveMetrics(registry, { host, port: options.metricsPort });
    } catch (err) {
      await grpc.stop(0);
      throw err;
    }
  }
  return {
    port: grpc.port,
    address: grpc.address,
    ...(metrics !== undefined ? { metricsUrl: metrics.url } : {}),
    registry,
    stop: async () => {
      await Promise.all([grpc.stop(), metrics?.stop()]);
    },
  };
}
