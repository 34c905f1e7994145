/**
 * One Prometheus registry per service process, and the /metrics endpoint that exposes it.
 *
 * prom-client's default Node metrics are deliberately not collected: three of them
 * (nodejs_active_handles_total, nodejs_active_requests_total, nodejs_active_resources_total) are
 * gauges named like counters, which `promtool check metrics` rejects, and a scrape that fails lint
 * would have to be special-cased in every dashboard and test.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { CrlError, invalidArgument } from '../errors.js';

/** A registry whose every series carries `service="<service>"`. */
export function createRegistry(service: string): Registry {
  if (service === '') throw invalidArgument('must be a non-empty service name', { field: 'service' });
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  return registry;
}

export interface MetricsServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port chosen by the OS. */
  port?: number;
}

export interface RunningMetricsServer {
  readonly port: number;
  /** http://host:port/metrics */
  readonly url: string;
  stop(): Promise<void>;
}

/** Serves GET /metrics in the registry's exposition format; every other path is 404. */
export async function serveMetrics(
  registry: Registry,
  options: MetricsServerOptions = {},
): Promise<RunningMetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidArgument(`must be an integer in 0..65535, got ${port}`, { field: 'port' });
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`cannot collect metrics: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  await listen(server, host, port);
  const bound = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  let stopped: Promise<void> | undefined;
  return {
    port: bound,
    url: `http://${hostPart}:${bound}/metrics`,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        // Prometheus keeps scrape connections alive; without this close() waits for them.
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(
        new CrlError('FAILED_PRECONDITION', `cannot listen on ${host}:${port}: ${err.message}`, {
          field: 'port',
        }),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
