/**
 * The group protocol over a real nats-server: two modality-sharded trainers on separate NATS
 * connections reproduce single-process training, and the protocol's guards hold on the wire.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type RunningNatsServer } from '../../common/nats-server.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { natsTransport, SyncChannel } from '../../trainer/distributed/index.js';
import { SyncRound } from '../../proto/gen/crl/v1/sync.js';
import { maxRelativeDifference, problem, runGroup, runSingle } from '../helpers/group.js';

describe('trainer group over nats-server', () => {
  let nats: RunningNatsServer;
  const conns: NatsConnection[] = [];

  beforeAll(async () => {
    await selectBackend('wasm');
    nats = await startNatsServer();
  }, 60_000);

  afterAll(async () => {
    for (const c of conns) await c.close();
    await nats?.stop();
  });

  async function conn(): Promise<NatsConnection> {
    const c = await connect({ servers: nats.url });
    conns.push(c);
    return c;
  }

  it('two modality-sharded trainers reproduce single-process training (200 steps)', async () => {
    const p = problem('c1', 800, { steps: 200, batchSize: 64, evalEvery: 50 });
    const single = await runSingle(p);
    const transports = new Map([
      ['t1', natsTransport(await conn())],
      ['t2', natsTransport(await conn())],
    ]);
    const sent = new Map<string, number>();
    const group = await runGroup(
      p,
      [
        { id: 't1', modalities: [0], shard: 0 },
        { id: 't2', modalities: [1], shard: 0 },
      ],
      (id) => transports.get(id)!,
      (id) => ({ sent: (b) => sent.set(id, (sent.get(id) ?? 0) + b) }),
    );
    expect(maxRelativeDifference(group.params, single.params)).toBeLessThan(1e-4);
    group.curve.forEach((row, i) => {
      expect(Math.abs(row.val_total - single.curve[i]!.val_total)).toBeLessThan(
        1e-4 * (1 + Math.abs(row.val_total)),
      );
    });
    expect(sent.get('t1')).toBeGreaterThan(0);
  });

  it('drops a message for the wrong step or parameter version and reports it', async () => {
    const a = natsTransport(await conn());
    const b = natsTransport(await conn());
    const rejected: string[] = [];
    const ca = new SyncChannel(a, 'guard', 'a', ['a', 'b'], ['stats'], {
      timeoutMs: 1500,
      observer: { rejected: (r) => rejected.push(r) },
    });
    const cb = new SyncChannel(b, 'guard', 'b', ['a', 'b'], ['stats']);
    await Promise.all([ca.ready(), cb.ready()]);
    // b is at version 2 while a expects version 3 at step 3: a must not take it.
    const waiting = ca.exchange(
      'stats',
      SyncRound.SYNC_ROUND_STATS,
      { step: 3, version: 3, pass: 0 },
      0,
      [],
      [1],
      ['a', 'b'],
    );
    await cb.exchange(
      'stats',
      SyncRound.SYNC_ROUND_STATS,
      { step: 3, version: 2, pass: 0 },
      0,
      [],
      [2],
      ['b'],
    );
    await expect(waiting).rejects.toThrow(/waiting for b at step 3.*version/);
    expect(rejected).toContain('version');
    ca.close();
    cb.close();
  });
});
