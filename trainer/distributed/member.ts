/**
 * Builds one trainer's part of a group: the model part for its modalities, the sync channel and
 * the training loop around the group engine. The trainer service calls this per trial; tests and
 * benchmarks call it to run a whole group in one process.
 */
import type { RowBlock } from '../data/rows/block.js';
import type { ModelConfig } from '../model/index.js';
import { CrlModel } from '../model/index.js';
import { Trainer, type TrainOptions } from '../training/train.js';
import { SyncChannel, type SyncObserver } from './channel.js';
import { GroupEngine, roundsFor } from './group-engine.js';
import type { GroupTopology } from './topology.js';
import type { SyncTransport } from './transport.js';

export interface MemberOptions {
  trialId: string;
  self: string;
  config: ModelConfig;
  options: TrainOptions;
  topology: GroupTopology;
  transport: SyncTransport;
  /** Blocks of this member's modalities (`topology` order), all dataset rows. */
  blocks: RowBlock[];
  n: number;
  /** Presence of every modality of the trial, trial order (undefined: nobody lacks any). */
  presence?: (Uint8Array | undefined)[];
  observer?: SyncObserver;
  timeoutMs?: number;
}

export interface GroupMemberHandle {
  trainer: Trainer;
  engine: GroupEngine;
  channel: SyncChannel;
  dispose(): void;
}

export function createGroupMember(o: MemberOptions): GroupMemberHandle {
  const me = o.topology.members.find((m) => m.id === o.self);
  const model = new CrlModel(o.config, o.options.seed, { owned: me?.modalities ?? [] });
  const channel = new SyncChannel(
    o.transport,
    o.trialId,
    o.self,
    o.topology.members.map((m) => m.id),
    roundsFor(model, o.topology),
    {
      ...(o.observer === undefined ? {} : { observer: o.observer }),
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    },
  );
  try {
    const engine = new GroupEngine({
      model,
      blocks: o.blocks,
      ...(o.presence === undefined ? {} : { presence: o.presence }),
      n: o.n,
      topology: o.topology,
      self: o.self,
      channel,
      adam: o.options.adam,
    });
    const trainer = new Trainer(engine, o.n, o.options);
    return {
      trainer,
      engine,
      channel,
      dispose: () => {
        channel.close();
        trainer.dispose();
        model.dispose();
      },
    };
  } catch (err) {
    channel.close();
    model.dispose();
    throw err;
  }
}
