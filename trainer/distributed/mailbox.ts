/**
 * Incoming sync messages of one subject, held until the engine asks for them. A message is only
 * ever handed over for the exact (step, version, pass) the engine is at; anything else is dropped
 * and counted with its reason, never applied: a peer one step ahead is normal (it is buffered), a
 * message for a past step, another parameter version, an unknown sender or a repeat is not.
 */
import { CrlError } from '../../common/errors.js';
import type { SyncMessage } from '../../proto/gen/crl/v1/sync.js';

export type RejectReason =
  'stale_step' | 'future_step' | 'version' | 'sender' | 'duplicate' | 'trial' | 'malformed';

export interface SyncKey {
  step: number;
  version: number;
  pass: number;
}

interface Waiter {
  key: SyncKey;
  from: Set<string>;
  got: Map<string, SyncMessage>;
  resolve(v: Map<string, SyncMessage>): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class Mailbox {
  private readonly pending = new Map<string, SyncMessage>();
  private waiter: Waiter | undefined;
  /** The step the engine is at: older messages are stale. */
  private floor = 0;
  private failure: Error | undefined;
  readonly rejections: { reason: RejectReason; detail: string }[] = [];

  constructor(
    private readonly trialId: string,
    private readonly members: ReadonlySet<string>,
    private readonly onReject: (reason: RejectReason, detail: string) => void = () => undefined,
  ) {}

  deliver(msg: SyncMessage): void {
    const where = `from ${msg.sender || '?'} step ${msg.step} pass ${msg.pass}`;
    if (msg.trialId !== this.trialId) return this.reject('trial', `${where}: trial ${msg.trialId}`);
    if (!this.members.has(msg.sender)) return this.reject('sender', `${where}: not in the group`);
    if (msg.step < this.floor)
      return this.reject('stale_step', `${where}: the group is at step ${this.floor}`);
    if (msg.step > this.floor + 1)
      return this.reject('future_step', `${where}: the group is at step ${this.floor}`);
    const w = this.waiter;
    if (w !== undefined && msg.step === w.key.step && msg.pass === w.key.pass) {
      if (msg.version !== w.key.version) {
        return this.reject(
          'version',
          `${where}: parameter version ${msg.version}, expected ${w.key.version}`,
        );
      }
      if (!w.from.has(msg.sender) || w.got.has(msg.sender)) return this.reject('duplicate', where);
      w.got.set(msg.sender, msg);
      if (w.got.size === w.from.size) this.settle(w);
      return;
    }
    const k = keyOf(msg.step, msg.pass, msg.sender);
    if (this.pending.has(k)) return this.reject('duplicate', where);
    this.pending.set(k, msg);
  }

  /** Messages from every sender in `from` for `key`, in a map by sender. */
  gather(key: SyncKey, from: readonly string[], timeoutMs: number): Promise<Map<string, SyncMessage>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.waiter !== undefined) throw new Error('one gather at a time per subject');
    this.floor = key.step;
    for (const [k, msg] of this.pending) if (msg.step < this.floor) this.pending.delete(k);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        key,
        from: new Set(from),
        got: new Map(),
        resolve,
        reject,
        timer: setTimeout(() => {
          const missing = from.filter((id) => !w.got.has(id));
          const last = this.rejections.at(-1);
          this.waiter = undefined;
          reject(
            new CrlError(
              'ABORTED',
              `timed out after ${timeoutMs} ms waiting for ${missing.join(', ')} at step ${key.step} pass ${key.pass}` +
                (last === undefined ? '' : ` (last rejected message: ${last.reason}, ${last.detail})`),
            ),
          );
        }, timeoutMs),
      };
      this.waiter = w;
      for (const id of from) {
        const k = keyOf(key.step, key.pass, id);
        const msg = this.pending.get(k);
        if (msg === undefined) continue;
        this.pending.delete(k);
        this.deliver(msg);
        if (this.waiter !== w) return;
      }
      if (w.from.size === 0) this.settle(w);
    });
  }

  /** Fails the current and every later gather (the trial is over). */
  abort(err: Error): void {
    this.failure = err;
    const w = this.waiter;
    if (w === undefined) return;
    clearTimeout(w.timer);
    this.waiter = undefined;
    w.reject(err);
  }

  private settle(w: Waiter): void {
    clearTimeout(w.timer);
    this.waiter = undefined;
    w.resolve(w.got);
  }

  private reject(reason: RejectReason, detail: string): void {
    this.rejections.push({ reason, detail });
    if (this.rejections.length > 100) this.rejections.shift();
    this.onReject(reason, detail);
  }
}

function keyOf(step: number, pass: number, sender: string): string {
  return `${step}/${pass}/${sender}`;
}
