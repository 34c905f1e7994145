/**
 * A real nats-server (JetStream on) on a random loopback port, for tests and the local cluster
 * launcher. The server picks its own port (`-p -1`) and reports it in a ports file, so two
 * servers started at once cannot race for the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CrlError } from './errors.js';

export const NATS_INSTALL_HINT = 'apt-get install -y nats-server';
const FALLBACK_BINARY = '/usr/sbin/nats-server';
const READY_TIMEOUT_MS = 15_000;
const KILL_AFTER_MS = 5_000;
const STDERR_TAIL_CHARS = 4_000;

export interface NatsServerOptions {
  /** Holds the ports file and JetStream storage; default a fresh temporary directory, removed by stop(). */
  dir?: string;
  /** Path of the nats-server binary; default the one on PATH, else /usr/sbin/nats-server. */
  binary?: string;
  /** How long to wait for the server to report its port. Default 15 s. */
  readyTimeoutMs?: number;
}

export interface RunningNatsServer {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** SIGTERM, SIGKILL after 5 s; removes the directory if it was created here. */
  stop(): Promise<void>;
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<RunningNatsServer> {
  const binary = findBinary(opts.binary);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'crl-nats-'));
  const args = ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', join(dir, 'jetstream'), '--ports_file_dir', dir];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = async (): Promise<void> => {
    await terminate(child, exited);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const url = await waitForPortsFile(child, dir, () => stderr, opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
    const port = Number(new URL(url).port);
    let stopped: Promise<void> | undefined;
    return {
      url,
      port,
      pid: child.pid as number,
      dir,
      stop: () => (stopped ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The binary to run: an explicit path must exist; otherwise PATH, then the Debian location. */
function findBinary(explicit: string | undefined): string {
  const candidates =
    explicit !== undefined
      ? [explicit]
      : [
          ...(process.env['PATH'] ?? '')
            .split(delimiter)
            .filter((d) => d !== '')
            .map((d) => join(d, 'nats-server')),
          FALLBACK_BINARY,
        ];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  const looked = explicit !== undefined ? explicit : `PATH and ${FALLBACK_BINARY}`;
  throw new CrlError(
    'NOT_FOUND',
    `nats-server not found in ${looked}; install it with \`${NATS_INSTALL_HINT}\``,
    {
      field: 'binary',
    },
  );
}

/**
 * Polls for `nats-server_<pid>.ports` (written once the client port is bound). Polling rather
 * than fs.watch: watch events are unreliable on some container file systems.
 */
function waitForPortsFile(
  child: ChildProcess,
  dir: string,
  stderr: () => string,
  timeoutMs: number,
): Promise<string> {
  const file = join(dir, `nats-server_${child.pid ?? 'unknown'}.ports`);
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(deadline);
      child.off('exit', onExit);
      child.off('error', onError);
      fn();
    };
    const failure = (why: string): CrlError => {
      const tail = stderr().trim();
      return new CrlError(
        'FAILED_PRECONDITION',
        `nats-server ${why}${tail ? `; its stderr ends:\n${tail}` : ''}`,
      );
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      finish(() => reject(failure(`exited before it was ready (${signal ?? `code ${code}`})`)));
    const onError = (err: Error): void =>
      finish(() => reject(failure(`could not be started: ${err.message}`)));
    child.once('exit', onExit);
    child.once('error', onError);
    const poll = setInterval(() => {
      const url = readPortsFile(file);
      if (url !== undefined) finish(() => resolve(url));
    }, 25);
    const deadline = setTimeout(
      () => finish(() => reject(failure(`did not report its port within ${timeoutMs} ms (no ${file})`))),
      timeoutMs,
    );
  });
}

/** The client URL from a ports file, or undefined while it is absent or half written. */
function readPortsFile(file: string): string | undefined {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const ports = JSON.parse(raw) as { nats?: unknown };
    const url = Array.isArray(ports.nats) ? ports.nats[0] : undefined;
    return typeof url === 'string' ? url : undefined;
  } catch {
    return undefined;
  }
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  await exited;
  clearTimeout(timer);
}
