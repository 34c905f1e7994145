/**
 * `crl serve evaluator|coordinator|trainer`: one service per process, as the local cluster and the
 * Kubernetes pods run them. When a service is up it prints one JSON line on stdout,
 * `{"event":"ready","service":...,"address":...,"metrics":...}`, which is how a launcher learns
 * its random ports; SIGTERM or SIGINT stops it cleanly (exit 0).
 */
import type { Command } from 'commander';
import { startCoordinator } from '../../coordinator/server.js';
import { addLauncherFlags, launcherFromFlags, type LauncherFlags } from '../../deploy/kubernetes/cli.js';
import { startEvaluatorServer } from '../../evaluator/service/server.js';
import { BACKEND_CHOICES } from '../../trainer/backend/index.js';
import { startTrainerServer } from '../../trainer/service/server.js';
import { choiceFlag, integerFlag } from '../options.js';

interface CommonFlags {
  host: string;
  port: number;
  metricsPort?: number;
}

export function registerServeCommands(program: Command): void {
  const serve = program.command('serve').description('run one cluster service in this process');
  const common = (c: Command): Command =>
    c
      .option('--host <addr>', 'interface to listen on', '127.0.0.1')
      .option('--port <n>', 'gRPC port (0: a free one)', integerFlag('--port', { min: 0, max: 65535 }), 0)
      .option(
        '--metrics-port <n>',
        'serve Prometheus /metrics on this port (0: a free one)',
        integerFlag('--metrics-port', { min: 0, max: 65535 }),
      );

  common(
    serve.command('evaluator').description('metrics (MCC, R², SHD) and causal discovery over gRPC'),
  ).action(async (f: CommonFlags) => {
    const s = await startEvaluatorServer(opts(f));
    await untilSignal('evaluator', s.address, s.metricsUrl, () => s.stop());
  });

  addLauncherFlags(
    common(serve.command('coordinator').description('trainer registry, trial placement and lifecycle')),
  )
    .requiredOption('--nats <url>', 'NATS server the trainer groups sync over')
    .requiredOption('--evaluator <addr>', 'host:port of the evaluator service')
    .option(
      '--heartbeat-ms <ms>',
      'heartbeat interval asked of trainers',
      integerFlag('--heartbeat-ms', { min: 10 }),
      1000,
    )
    .option(
      '--heartbeat-timeout-ms <ms>',
      'silence after which a trainer is dead',
      integerFlag('--heartbeat-timeout-ms', { min: 20 }),
      5000,
    )
    .option(
      '--checkpoint-dir <dir>',
      'shared directory for study trial checkpoints (retries resume from them)',
    )
    .action(
      async (
        f: CommonFlags &
          LauncherFlags & {
            nats: string;
            evaluator: string;
            heartbeatMs: number;
            heartbeatTimeoutMs: number;
            checkpointDir?: string;
          },
      ) => {
        const launcher = await launcherFromFlags(f, { port: f.port, natsUrl: f.nats });
        const s = await startCoordinator({
          ...opts(f),
          natsUrl: f.nats,
          evaluatorAddress: f.evaluator,
          heartbeatIntervalMs: f.heartbeatMs,
          heartbeatTimeoutMs: f.heartbeatTimeoutMs,
          // Studies live in JetStream KV on the same NATS: a restarted coordinator resumes them.
          persistStudies: true,
          ...(f.checkpointDir === undefined ? {} : { checkpointDir: f.checkpointDir }),
          ...(launcher === undefined ? {} : { launcher, maxTrainers: f.maxTrainers }),
        }).catch(async (err: unknown) => {
          // Its pod watch would keep a failed start from exiting.
          await launcher?.close();
          throw err;
        });
        await untilSignal('coordinator', s.address, s.metricsUrl, async () => {
          await s.stop();
          await launcher?.close();
        });
      },
    );

  common(serve.command('trainer').description('trains its share of trials: its modalities, its row shard'))
    .requiredOption('--coordinator <addr>', 'host:port of the coordinator to register with')
    .option('--id <name>', 'trainer id, unique in the cluster (default: host-pid)')
    .option('--advertise <addr>', 'address the coordinator dials (default: host:port)')
    .option(
      '--backend <name>',
      `tfjs backend: ${BACKEND_CHOICES.join(', ')}`,
      choiceFlag('--backend', BACKEND_CHOICES),
      'auto',
    )
    .action(
      async (f: CommonFlags & { coordinator: string; id?: string; advertise?: string; backend: string }) => {
        const s = await startTrainerServer({
          ...opts(f),
          coordinator: f.coordinator,
          backend: f.backend,
          ...(f.id === undefined ? {} : { id: f.id }),
          ...(f.advertise === undefined ? {} : { advertise: f.advertise }),
          log: (line) => process.stderr.write(`${line}\n`),
        });
        await untilSignal('trainer', s.address, s.metricsUrl, () => s.stop(), {
          id: s.id,
          backend: s.backend,
        });
      },
    );
}

function opts(f: CommonFlags): { host: string; port: number; metricsPort?: number } {
  return {
    host: f.host,
    port: f.port,
    ...(f.metricsPort === undefined ? {} : { metricsPort: f.metricsPort }),
  };
}

/** Announces readiness, then waits for SIGTERM/SIGINT and stops the service. */
async function untilSignal(
  service: string,
  address: string,
  metrics: string | undefined,
  stop: () => Promise<void>,
  extra: Record<string, string> = {},
): Promise<void> {
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', service, address, metrics: metrics ?? null, ...extra })}\n`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.stderr.write(`${service}: ${signal}, stopping\n`);
  await stop();
  // Stopped cleanly; a client library's idle timer must not keep the process around.
  setTimeout(() => process.exit(0), 2000).unref();
}
