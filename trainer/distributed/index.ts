export { SyncChannel, type ChannelOptions, type SyncObserver } from './channel.js';
export { GroupEngine, ROUND_CODES, ROUND_STATS, gradsRound, roundsFor } from './group-engine.js';
export { Mailbox, type RejectReason, type SyncKey } from './mailbox.js';
export { createGroupMember, type GroupMemberHandle, type MemberOptions } from './member.js';
export { MemoryHub } from './memory-transport.js';
export { natsTransport } from './nats-transport.js';
export { groupTopology, shardRange, type GroupMember, type GroupTopology } from './topology.js';
export { syncSubject, type SyncTransport } from './transport.js';
