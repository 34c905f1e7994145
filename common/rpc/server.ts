/**
 * Starting and stopping a gRPC server the same way in every service: loopback by default, a
 * random port for tests, large messages allowed (tensors travel as bytes), a stop that cannot
 * hang on a client that never hangs up, and the standard `grpc.health.v1.Health` service so that
 * Kubernetes' native gRPC probes (and grpc_health_probe) can check every service by name.
 */
import {
  Server,
  ServerCredentials,
  type ChannelOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { CrlError, invalidArgument } from '../errors.js';

/** Default message cap: a 256 MiB tensor is ~67M float32 values, far above any batch we send. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface GrpcService {
  // ts-proto's service objects are typed more precisely than grpc-js's ServiceDefinition<any>.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly definition: ServiceDefinition<any>;
  readonly implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  services: readonly GrpcService[];
  /** Largest message either way, in bytes. Default 256 MiB. */
  maxMessageBytes?: number;
}

export interface RunningGrpcServer {
  readonly server: Server;
  readonly port: number;
  /** host:port, as a client dials it. */
  readonly address: string;
  /** Fully qualified names the health service reports on (e.g. `crl.v1.EvaluatorService`), besides "". */
  readonly healthServices: readonly string[];
  /**
   * Reports every service NOT_SERVING (so probes and load balancers stop sending work), then lets
   * calls in flight finish for up to graceMs (default 5 s) and cuts the rest.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The fully qualified gRPC service name of a definition, from its method paths
 * (`/crl.v1.EvaluatorService/EvaluateLatents` -> `crl.v1.EvaluatorService`): ts-proto's service
 * objects carry no name of their own, and the health protocol is keyed by exactly this name.
 */
export function grpcServiceName(definition: GrpcService['definition']): string {
  const names = new Set<string>();
  for (const method of Object.values(definition)) {
    const match = /^\/([^/]+)\/[^/]+$/.exec(method.path);
    if (match?.[1] === undefined) {
      throw invalidArgument(`unexpected gRPC method path ${JSON.stringify(method.path)}`, {
        field: 'services',
      });
    }
    names.add(match[1]);
  }
  const [name, ...rest] = [...names];
  if (name === undefined || rest.length > 0) {
    throw invalidArgument(`a service definition must name exactly one service, got ${names.size}`, {
      field: 'services',
    });
  }
  return name;
}

/** Channel options for clients that send or receive messages up to `maxMessageBytes`. */
export function clientOptions(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): ChannelOptions {
  return {
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.max_receive_message_length': maxMessageBytes,
  };
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidArgument(`must be an integer in 0..65535, got ${port}`, { field: 'port' });
  }
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw invalidArgument(`must be a positive integer, got ${maxMessageBytes}`, { field: 'maxMessageBytes' });
  }
  const server = new Server(clientOptions(maxMessageBytes));
  for (const s of options.services) server.addService(s.definition, s.implementation);
  const healthServices = options.services.map((s) => grpcServiceName(s.definition));
  // NOT_SERVING until the port is bound: a probe cannot reach it earlier anyway, but a status
  // that starts pessimistic cannot report a server as ready before it is.
  const health = new HealthImplementation(
    Object.fromEntries(['', ...healthServices].map((name) => [name, 'NOT_SERVING' as const])),
  );
  health.addToServer(server);
  const setHealth = (status: 'SERVING' | 'NOT_SERVING'): void => {
    for (const name of ['', ...healthServices]) health.setStatus(name, status);
  };

  const hostPart = host.includes(':') ? `[${host}]` : host;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${hostPart}:${port}`, ServerCredentials.createInsecure(), (err, p) => {
      if (err) {
        server.forceShutdown();
        reject(
          new CrlError('FAILED_PRECONDITION', `cannot listen on ${hostPart}:${port}: ${err.message}`, {
            field: 'port',
          }),
        );
      } else resolve(p);
    });
  });

  setHealth('SERVING');

  let stopped: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> => {
    // First, so that a Check or Watch racing the shutdown sees the server going away.
    if (stopped === undefined) setHealth('NOT_SERVING');
    stopped ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return stopped;
  };
  return { server, port: bound, address: `${hostPart}:${bound}`, healthServices, stop };
}
