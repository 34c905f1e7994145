/** Sync messages over a NATS connection (core subjects: the group is in lockstep, nothing to persist). */
import type { NatsConnection } from '@nats-io/transport-node';
import type { SyncTransport } from './transport.js';

export function natsTransport(nc: NatsConnection): SyncTransport {
  return {
    maxPayload: nc.info?.max_payload ?? 1024 * 1024,
    publish: (subject, payload) => nc.publish(subject, payload),
    subscribe: (subject, onMessage) => {
      const sub = nc.subscribe(subject, {
        callback: (err, msg) => (err === null ? onMessage(msg.data) : undefined),
      });
      return () => sub.unsubscribe();
    },
    flush: () => nc.flush(),
  };
}
