/** An in-process hub: every subscriber of a subject gets every message, asynchronously like a network. */
import type { SyncTransport } from './transport.js';

export class MemoryHub {
  private readonly subs = new Map<string, Set<(payload: Uint8Array) => void>>();

  transport(): SyncTransport {
    return {
      maxPayload: 64 * 1024 * 1024,
      publish: (subject, payload) => {
        const copy = payload.slice();
        for (const fn of this.subs.get(subject) ?? []) setImmediate(() => fn(copy));
      },
      subscribe: (subject, fn) => {
        let set = this.subs.get(subject);
        if (set === undefined) this.subs.set(subject, (set = new Set()));
        set.add(fn);
        return () => set.delete(fn);
      },
      flush: () => Promise.resolve(),
    };
  }
}
