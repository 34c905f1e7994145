/**
 * One trainer's end of its group's sync: publishes this trainer's message for a round and waits
 * for its peers', with the time spent waiting and the bytes moved reported to an observer (the
 * Prometheus metrics). Its own message is kept locally, never round-tripped through the server.
 */
import { CrlError, invalidArgument } from '../../common/errors.js';
import { SyncMessage, type SyncBlock, type SyncRound } from '../../proto/gen/crl/v1/sync.js';
import { Mailbox, type RejectReason, type SyncKey } from './mailbox.js';
import { syncSubject, type SyncTransport } from './transport.js';

const HELLO = 'hello';

export interface SyncObserver {
  wait?(round: string, seconds: number): void;
  sent?(bytes: number): void;
  received?(bytes: number): void;
  rejected?(reason: RejectReason, detail: string): void;
}

export interface ChannelOptions {
  /** How long a gather waits for a peer before the trial is given up (default 120 s). */
  timeoutMs?: number;
  observer?: SyncObserver;
}

export class SyncChannel {
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly timeoutMs: number;
  private readonly observer: SyncObserver;
  /** Seconds spent waiting on peers since creation. */
  waitSeconds = 0;
  /** Peers that have heard this trainer: it may send to them (they subscribed first). */
  private readonly heard = new Set<string>();
  /** Peers this trainer has heard from (so it knows they subscribed). */
  private readonly seen = new Set<string>();
  private readonly peers: string[];
  private closed: Error | undefined;

  constructor(
    private readonly transport: SyncTransport,
    private readonly trialId: string,
    private readonly self: string,
    members: readonly string[],
    rounds: readonly string[],
    opts: ChannelOptions = {},
  ) {
    if (!/^[A-Za-z0-9_-]+$/.test(trialId)) {
      throw invalidArgument(`trial id ${JSON.stringify(trialId)} must be letters, digits, _ or -`, {
        field: 'trial_id',
      });
    }
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.observer = opts.observer ?? {};
    const peers = new Set(members);
    this.peers = members.filter((id) => id !== self);
    this.unsubscribe.push(
      transport.subscribe(syncSubject(trialId, HELLO), (payload) => {
        let hello: { id?: unknown; seen?: unknown };
        try {
          hello = JSON.parse(new TextDecoder().decode(payload)) as typeof hello;
        } catch {
          return;
        }
        if (typeof hello.id !== 'string' || hello.id === self || !peers.has(hello.id)) return;
        this.seen.add(hello.id);
        if (Array.isArray(hello.seen) && hello.seen.includes(self)) this.heard.add(hello.id);
      }),
    );
    for (const round of rounds) {
      const box = new Mailbox(trialId, peers, (reason, detail) => this.observer.rejected?.(reason, detail));
      this.mailboxes.set(round, box);
      this.unsubscribe.push(
        transport.subscribe(syncSubject(trialId, round), (payload) => {
          this.observer.received?.(payload.byteLength);
          let msg: SyncMessage;
          try {
            msg = SyncMessage.decode(payload);
          } catch (err) {
            this.observer.rejected?.('malformed', (err as Error).message);
            return;
          }
          if (msg.sender === self) return;
          // A round message means its sender got past ready(), so it heard us.
          if (peers.has(msg.sender)) {
            this.seen.add(msg.sender);
            this.heard.add(msg.sender);
          }
          box.deliver(msg);
        }),
      );
    }
  }

  /**
   * Resolves once every peer is subscribed, so that no message of the first step is lost (core
   * NATS does not keep messages for late subscribers). Each says hello, listing the peers it has
   * heard, until every peer has listed it (or sent a round message, which it only does once ready);
   * then one last hello, so a peer still waiting learns that it was heard.
   */
  async ready(): Promise<void> {
    const started = performance.now();
    const hello = (): Uint8Array =>
      new TextEncoder().encode(JSON.stringify({ id: this.self, seen: [...this.seen] }));
    while (this.peers.some((id) => !this.heard.has(id))) {
      if (this.closed !== undefined) throw this.closed;
      if (performance.now() - started > this.timeoutMs) {
        const missing = this.peers.filter((id) => !this.heard.has(id));
        throw new CrlError(
          'ABORTED',
          `timed out after ${this.timeoutMs} ms waiting for ${missing.join(', ')} to join`,
        );
      }
      this.transport.publish(syncSubject(this.trialId, HELLO), hello());
      await this.transport.flush();
      await new Promise((r) => setTimeout(r, 25));
    }
    if (this.peers.length > 0) {
      this.transport.publish(syncSubject(this.trialId, HELLO), hello());
      await this.transport.flush();
    }
  }

  /**
   * Publishes this trainer's message for `key` on `round` and resolves with every message of the
   * round from `from` (this trainer's own included, when listed).
   */
  async exchange(
    round: string,
    kind: SyncRound,
    key: SyncKey,
    shardIndex: number,
    blocks: SyncBlock[],
    scalars: number[],
    from: readonly string[],
  ): Promise<Map<string, SyncMessage>> {
    const box = this.mailboxes.get(round);
    if (box === undefined) throw new Error(`round ${round} is not subscribed`);
    const own: SyncMessage = {
      trialId: this.trialId,
      sender: this.self,
      step: key.step,
      version: key.version,
      round: kind,
      pass: key.pass,
      shardIndex,
      blocks,
      scalars,
    };
    const payload = SyncMessage.encode(own).finish();
    if (payload.byteLength > this.transport.maxPayload) {
      throw new CrlError(
        'FAILED_PRECONDITION',
        `a ${round} message of ${payload.byteLength} bytes exceeds the server's max_payload of ${this.transport.maxPayload} bytes (lower the batch size, or raise max_payload on nats-server)`,
      );
    }
    const peers = from.filter((id) => id !== this.self);
    const started = performance.now();
    const gathered = box.gather(key, peers, this.timeoutMs);
    this.transport.publish(syncSubject(this.trialId, round), payload);
    this.observer.sent?.(payload.byteLength);
    const got = await gathered;
    const waited = (performance.now() - started) / 1000;
    this.waitSeconds += waited;
    this.observer.wait?.(round, waited);
    if (from.includes(this.self)) got.set(this.self, own);
    return got;
  }

  /** Fails every pending and later exchange with `err` (the trial ended or a peer died). */
  abort(err: Error): void {
    this.closed = err;
    for (const box of this.mailboxes.values()) box.abort(err);
  }

  close(): void {
    this.abort(new CrlError('ABORTED', 'the sync channel is closed'));
    for (const u of this.unsubscribe) u();
    this.unsubscribe.length = 0;
  }
}
