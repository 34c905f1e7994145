/** A peer that sends malformed code blocks fails the step with the sender, modality and shapes named. */
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeTensor } from '../../../../common/rpc/tensor.js';
import { SyncRound } from '../../../../proto/gen/crl/v1/sync.js';
import { selectBackend } from '../../../../trainer/backend/index.js';
import {
  createGroupMember,
  groupTopology,
  MemoryHub,
  ROUND_CODES,
  SyncChannel,
} from '../../../../trainer/distributed/index.js';
import { problem } from '../../../helpers/group.js';

describe('a misbehaving peer', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  }, 60_000);

  it('a code block of the wrong shape fails the step, naming sender, modality and shapes', async () => {
    const p = problem('c1', 200, { steps: 5, batchSize: 32, evalEvery: 5 });
    const hub = new MemoryHub();
    const topology = groupTopology(
      [
        { id: 't1', modalities: [0], shard: 0 },
        { id: 'bad', modalities: [1], shard: 0 },
      ],
      2,
    );
    const member = createGroupMember({
      trialId: 'T',
      self: 't1',
      config: p.config,
      options: p.options,
      topology,
      transport: hub.transport(),
      blocks: [p.blocks[0]!],
      n: p.n,
    });
    const bad = new SyncChannel(hub.transport(), 'T', 'bad', ['t1', 'bad'], [ROUND_CODES]);
    try {
      await Promise.all([member.channel.ready(), bad.ready()]);
      const stepping = member.trainer.step();
      // m2's code block is 3 wide x 3 parts; send 2 columns instead, for 32 rows.
      await bad.exchange(
        ROUND_CODES,
        SyncRound.SYNC_ROUND_CODES,
        { step: 0, version: 0, pass: 0 },
        0,
        [{ modality: 'm2', tensor: encodeTensor(new Float32Array(64), [32, 2]) }],
        [],
        ['bad'],
      );
      await expect(stepping).rejects.toThrow(
        /bad: step 0 code block of m2: shape \[32, 2\] does not match \[32, 9\]/,
      );
    } finally {
      bad.close();
      member.dispose();
    }
  });
});
