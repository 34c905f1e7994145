/**
 * gRPC health (`grpc.health.v1.Health`) as Kubernetes' native gRPC probes use it: every service a
 * server hosts, and the server as a whole (""), is SERVING once it has started and NOT_SERVING as
 * soon as it starts to stop.
 */
import {
  credentials,
  makeClientConstructor,
  status,
  type Client,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcServiceName, startGrpcServer } from '../../common/rpc/server.js';
import { startEvaluatorServer, type RunningEvaluatorServer } from '../../evaluator/service/server.js';
import { EvaluatorServiceService } from '../../proto/gen/crl/v1/evaluator.js';

type HealthClient = Client & {
  check(req: { service: string }, cb: (err: ServiceError | null, res?: { status: string }) => void): void;
};
// The package ships the service loaded by proto-loader (enums as strings), not a client.
const HealthClientCtor = makeClientConstructor(
  healthService as unknown as ServiceDefinition,
  'grpc.health.v1.Health',
) as unknown as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient;

function check(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.check({ service }, (err, res) => (err === null ? resolve(res?.status ?? '') : reject(err))),
  );
}

describe('gRPC health of a started evaluator', () => {
  let evaluator: RunningEvaluatorServer;
  let client: HealthClient;
  beforeAll(async () => {
    evaluator = await startEvaluatorServer();
    client = new HealthClientCtor(evaluator.address, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await evaluator?.stop();
  });

  it('answers SERVING for the evaluator service and for the server as a whole', async () => {
    const name = grpcServiceName(EvaluatorServiceService);
    expect(name).toBe('crl.v1.EvaluatorService');
    for (const service of [name, '']) expect(await check(client, service)).toBe('SERVING');
  });

  it('answers NOT_FOUND for a service the server does not host', async () => {
    const err = (await check(client, 'crl.v1.NoSuchService').catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.NOT_FOUND);
  });
});

describe('gRPC health on stop', () => {
  it('turns NOT_SERVING before the server goes away', async () => {
    const server = await startGrpcServer({
      services: [{ definition: EvaluatorServiceService, implementation: {} }],
    });
    expect(server.healthServices).toEqual(['crl.v1.EvaluatorService']);
    const client = new HealthClientCtor(server.address, credentials.createInsecure());
    try {
      expect(await check(client, 'crl.v1.EvaluatorService')).toBe('SERVING');
      // A Watch stream stays open across the stop call, so it sees the status change before the
      // server closes: that is the order a probe relies on.
      const seen: string[] = [];
      const watch = (
        client as unknown as {
          watch(req: { service: string }): NodeJS.EventEmitter & { cancel(): void };
        }
      ).watch({ service: '' });
      watch.on('data', (m: { status: string }) => seen.push(m.status));
      watch.on('error', () => undefined);
      await expect.poll(() => seen).toEqual(['SERVING']);
      const stopped = server.stop(2000);
      await expect.poll(() => seen).toEqual(['SERVING', 'NOT_SERVING']);
      watch.cancel();
      await stopped;
    } finally {
      client.close();
    }
  });
});
