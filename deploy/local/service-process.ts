/**
 * A cluster service as a child process (`crl serve ...`): started, awaited until it prints its
 * ready line, and stopped with SIGTERM (SIGKILL after a grace period). Its stderr is kept (last
 * lines) so a service that dies explains itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CrlError } from '../../common/errors.js';

const CRL_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'crl.js');

export interface ReadyLine {
  event: 'ready';
  service: string;
  address: string;
  metrics: string | null;
  id?: string;
  backend?: string;
}

export class ServiceProcess {
  private readonly stderrTail: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly ready: ReadyLine,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null)
        resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** Starts `crl serve <args>` and resolves with its ready line. */
  static start(
    name: string,
    args: string[],
    opts: { timeoutMs?: number; onLog?: (name: string, line: string) => void } = {},
  ): Promise<ServiceProcess> {
    const child = spawn(process.execPath, [CRL_BIN, 'serve', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    const tail: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      opts.onLog?.(name, line);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new CrlError(
            'ABORTED',
            `${name} did not become ready in ${opts.timeoutMs ?? 60_000} ms:\n${tail.join('\n')}`,
          ),
        );
      }, opts.timeoutMs ?? 60_000);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new CrlError(
            'ABORTED',
            `${name} exited (${signal ?? `code ${code}`}) before it was ready:\n${tail.join('\n')}`,
          ),
        );
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch {
          return;
        }
        if ((msg as { event?: string }).event !== 'ready') return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        const proc = new ServiceProcess(name, child, msg as ReadyLine);
        proc.stderrTail.push(...tail);
        child.stderr!.on('data', () => undefined);
        resolve(proc);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
