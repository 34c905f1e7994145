/**
 * The shape of a trainer group: who owns which modalities for which row shard. Every shard is a
 * full copy of the modality partition, so a step's batch is split by position into shard slices
 * and each slice is encoded by exactly one trainer per modality.
 */
import { invalidArgument } from '../../common/errors.js';

export interface GroupMember {
  id: string;
  /** Indices of the modalities this trainer owns, ascending. */
  modalities: number[];
  shard: number;
}

export interface GroupTopology {
  members: GroupMember[];
  shards: number;
  modalityCount: number;
  /** owner[shard][m] = the member owning modality m in that shard. */
  owner: string[][];
}

export function groupTopology(members: readonly GroupMember[], modalityCount: number): GroupTopology {
  if (members.length === 0)
    throw invalidArgument('a trainer group needs at least one member', { field: 'group' });
  const ids = new Set<string>();
  for (const m of members) {
    if (ids.has(m.id)) throw invalidArgument(`trainer ${m.id} appears twice`, { field: 'group' });
    ids.add(m.id);
  }
  const shards = Math.max(...members.map((m) => m.shard)) + 1;
  const owner: string[][] = Array.from({ length: shards }, () => new Array<string>(modalityCount).fill(''));
  for (const mem of members) {
    if (!Number.isInteger(mem.shard) || mem.shard < 0) {
      throw invalidArgument(`trainer ${mem.id} has shard ${mem.shard}`, { field: 'group.shard_index' });
    }
    for (const m of mem.modalities) {
      const row = owner[mem.shard] as string[];
      if (!(m >= 0 && m < modalityCount)) {
        throw invalidArgument(`trainer ${mem.id} owns modality index ${m} of ${modalityCount}`, {
          field: 'group.modalities',
        });
      }
      if (row[m] !== '') {
        throw invalidArgument(`modality ${m} of shard ${mem.shard} is owned by ${row[m]} and ${mem.id}`, {
          field: 'group.modalities',
        });
      }
      row[m] = mem.id;
    }
  }
  owner.forEach((row, s) => {
    const missing = row.findIndex((id) => id === '');
    if (missing >= 0) {
      throw invalidArgument(`no trainer owns modality ${missing} in shard ${s}`, {
        field: 'group.modalities',
      });
    }
  });
  const sorted = [...members].sort((a, b) => a.shard - b.shard || a.id.localeCompare(b.id));
  return {
    members: sorted.map((m) => ({ ...m, modalities: [...m.modalities].sort((a, b) => a - b) })),
    shards,
    modalityCount,
    owner,
  };
}

/** Rows [start, end) of a block of `rows` that shard s of `shards` takes, by position. */
export function shardRange(rows: number, shard: number, shards: number): [number, number] {
  return [Math.floor((shard * rows) / shards), Math.floor(((shard + 1) * rows) / shards)];
}
