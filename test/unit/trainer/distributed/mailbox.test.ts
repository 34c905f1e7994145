import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../../common/errors.js';
import { Mailbox, type RejectReason } from '../../../../trainer/distributed/index.js';
import { SyncRound, type SyncMessage } from '../../../../proto/gen/crl/v1/sync.js';

function msg(sender: string, step: number, version: number, pass = 0, trialId = 'T'): SyncMessage {
  return {
    trialId,
    sender,
    step,
    version,
    round: SyncRound.SYNC_ROUND_STATS,
    pass,
    shardIndex: 0,
    blocks: [],
    scalars: [step],
  };
}

function box(): { box: Mailbox; rejected: RejectReason[] } {
  const rejected: RejectReason[] = [];
  return { box: new Mailbox('T', new Set(['a', 'b', 'c']), (r) => rejected.push(r)), rejected };
}

describe('sync mailbox', () => {
  it('hands over exactly the messages of the current step, version and pass', async () => {
    const { box: b, rejected } = box();
    b.deliver(msg('b', 1, 1)); // a peer one step ahead: buffered
    const got = b.gather({ step: 1, version: 1, pass: 0 }, ['b', 'c'], 5000);
    b.deliver(msg('c', 1, 0)); // wrong parameter version: dropped
    b.deliver(msg('c', 1, 1, 1)); // another pass: buffered, not handed over
    b.deliver(msg('c', 1, 1));
    const out = await got;
    expect([...out.keys()].sort()).toEqual(['b', 'c']);
    expect(rejected).toEqual(['version']);
  });

  it('drops stale, far-future, foreign, unknown-sender and repeated messages', async () => {
    const { box: b, rejected } = box();
    const got = b.gather({ step: 3, version: 3, pass: 0 }, ['a'], 5000);
    b.deliver(msg('a', 2, 2));
    b.deliver(msg('a', 9, 9));
    b.deliver(msg('a', 3, 3, 0, 'other-trial'));
    b.deliver(msg('zz', 3, 3));
    b.deliver(msg('a', 4, 4));
    b.deliver(msg('a', 4, 4));
    b.deliver(msg('a', 3, 3));
    await got;
    expect(rejected).toEqual(['stale_step', 'future_step', 'trial', 'sender', 'duplicate']);
  });

  it('times out naming the missing trainer and the last rejection', async () => {
    const { box: b } = box();
    const got = b.gather({ step: 1, version: 1, pass: 0 }, ['a', 'b'], 50);
    b.deliver(msg('a', 1, 1));
    b.deliver(msg('b', 1, 7));
    await expect(got).rejects.toThrow(/waiting for b at step 1 pass 0 \(last rejected message: version/);
  });

  it('abort fails the pending and later gathers', async () => {
    const { box: b } = box();
    const got = b.gather({ step: 1, version: 1, pass: 0 }, ['a'], 5000);
    b.abort(new CrlError('ABORTED', 'trial cancelled'));
    await expect(got).rejects.toThrow(/trial cancelled/);
    await expect(b.gather({ step: 2, version: 2, pass: 0 }, ['a'], 5000)).rejects.toThrow(/trial cancelled/);
  });
});
