import { connect } from '@nats-io/transport-node';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CrlError } from '../../common/errors.js';
import { startNatsServer, type RunningNatsServer } from '../../common/nats-server.js';
import { tempDir } from '../helpers/tmp.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startNatsServer', () => {
  const started: RunningNatsServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it('runs a real server on a random loopback port with JetStream on', async () => {
    const server = await startNatsServer();
    started.push(server);
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);

    const nc = await connect({ servers: server.url });
    try {
      expect(nc.info?.jetstream).toBe(true);
      const sub = nc.subscribe('crl.test');
      const got = (async () => {
        for await (const m of sub) return m.string();
        return undefined;
      })();
      nc.publish('crl.test', 'hello');
      expect(await got).toBe('hello');

      const info = (await nc.request('$JS.API.INFO', '', { timeout: 5000 })).json<{
        type?: string;
        error?: unknown;
      }>();
      expect(info.error).toBeUndefined();
      expect(info.type).toBe('io.nats.jetstream.api.v1.account_info_response');
    } finally {
      await nc.close();
    }
  });

  it('stop() ends the process and removes the directory it created', async () => {
    const server = await startNatsServer();
    expect(alive(server.pid)).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    await server.stop(); // idempotent
  });

  it('keeps a directory it was given, and its JetStream store is inside it', async () => {
    const dir = tempDir();
    const server = await startNatsServer({ dir });
    expect(existsSync(join(dir, `nats-server_${server.pid}.ports`))).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });

  it('two servers started at once get different ports', async () => {
    const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
    started.push(a, b);
    expect(a.port).not.toBe(b.port);
  });

  it('names the install command when the binary is missing', async () => {
    const err = await startNatsServer({ binary: '/nonexistent/nats-server' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrlError);
    expect((err as CrlError).code).toBe('NOT_FOUND');
    expect((err as CrlError).message).toContain('apt-get install -y nats-server');
  });

  it("reports the server's stderr when it exits early", async () => {
    // A file where the JetStream directory should be makes the server fail at startup.
    const dir = tempDir();
    writeFileSync(join(dir, 'jetstream'), 'not a directory');
    const err = await startNatsServer({ dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrlError);
    expect((err as CrlError).message).toMatch(/exited before it was ready[^]*stderr ends/);
  });
});
