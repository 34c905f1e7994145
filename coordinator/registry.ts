/**
 * The trainers the coordinator knows: who they are, where they listen, whether they are alive and
 * whether a trial holds them. A trainer proves it is alive by heartbeating; one silent for longer
 * than `heartbeatTimeoutMs` is declared dead and forgotten, so the same id may register again
 * (a restarted pod keeps its name) while a second live process under one id is refused.
 */
import { CrlError, invalidArgument } from '../common/errors.js';

export type TrainerState = 'idle' | 'busy';

export interface TrainerEntry {
  readonly id: string;
  /** host:port of its TrainerService. */
  readonly address: string;
  readonly backend: string;
  /** The trial holding it; undefined while idle. */
  trialId: string | undefined;
  registeredMs: number;
  lastHeartbeatMs: number;
  /** Set when its connection broke: not offered to trials until it heartbeats again. */
  suspect: boolean;
}

export interface Clock {
  now(): number;
}

export interface TrainerRegistryOptions {
  heartbeatTimeoutMs: number;
  /** How often liveness is checked. Default: a quarter of the timeout (at least 10 ms). */
  checkIntervalMs?: number;
  /** Default: the system clock. Tests pass a fake one and drive `checkLiveness` themselves. */
  clock?: Clock;
  /** Default true; false leaves liveness checks to explicit `checkLiveness` calls. */
  timer?: boolean;
}

export type DeathListener = (trainer: TrainerEntry, reason: string) => void;
export type ChangeListener = () => void;

export class TrainerRegistry {
  readonly heartbeatTimeoutMs: number;
  private readonly clock: Clock;
  private readonly trainers = new Map<string, TrainerEntry>();
  private readonly deathListeners = new Set<DeathListener>();
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly interval: ReturnType<typeof setInterval> | undefined;

  constructor(opts: TrainerRegistryOptions) {
    if (!(opts.heartbeatTimeoutMs > 0)) {
      throw invalidArgument(`must be positive, got ${opts.heartbeatTimeoutMs}`, {
        field: 'heartbeatTimeoutMs',
      });
    }
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs;
    this.clock = opts.clock ?? { now: () => Date.now() };
    if (opts.timer ?? true) {
      const every = opts.checkIntervalMs ?? Math.max(10, Math.floor(opts.heartbeatTimeoutMs / 4));
      this.interval = setInterval(() => this.checkLiveness(), every);
      // Liveness checks alone must not keep a process alive that has nothing else to do.
      this.interval.unref();
    }
  }

  register(id: string, address: string, backend: string): TrainerEntry {
    if (id === '') throw invalidArgument('a trainer needs an id', { field: 'trainer_id' });
    if (address === '')
      throw invalidArgument('a trainer needs the host:port it listens on', { field: 'address' });
    const existing = this.trainers.get(id);
    if (existing !== undefined) {
      throw new CrlError(
        'ALREADY_EXISTS',
        `trainer ${id} is registered and alive (at ${existing.address}, last heartbeat ${this.clock.now() - existing.lastHeartbeatMs} ms ago); a second trainer needs another id, a restarted one may register again once the first is declared dead after ${this.heartbeatTimeoutMs} ms`,
        { field: 'trainer_id' },
      );
    }
    const now = this.clock.now();
    const entry: TrainerEntry = {
      id,
      address,
      backend,
      trialId: undefined,
      registeredMs: now,
      lastHeartbeatMs: now,
      suspect: false,
    };
    this.trainers.set(id, entry);
    this.changed();
    return entry;
  }

  /** Records a heartbeat; NOT_FOUND tells a trainer declared dead (or never seen) to register again. */
  heartbeat(id: string): TrainerEntry {
    const entry = this.trainers.get(id);
    if (entry === undefined) {
      throw new CrlError('NOT_FOUND', `trainer ${id} is not registered (register again)`, {
        field: 'trainer_id',
      });
    }
    entry.lastHeartbeatMs = this.clock.now();
    if (entry.suspect) {
      entry.suspect = false;
      this.changed();
    }
    return entry;
  }

  get(id: string): TrainerEntry | undefined {
    return this.trainers.get(id);
  }

  /** All live trainers, by id. */
  list(): TrainerEntry[] {
    return [...this.trainers.values()].sort((a, b) => compareIds(a.id, b.id));
  }

  /** Live trainers no trial holds and none suspects, by id: what trials may be placed on. */
  idle(): TrainerEntry[] {
    return this.list().filter((t) => t.trialId === undefined && !t.suspect);
  }

  stateOf(entry: TrainerEntry): TrainerState {
    return entry.trialId === undefined ? 'idle' : 'busy';
  }

  counts(): Record<TrainerState, number> {
    let busy = 0;
    for (const t of this.trainers.values()) if (t.trialId !== undefined) busy++;
    return { idle: this.trainers.size - busy, busy };
  }

  /** Marks the trainers busy with `trialId`, all or none. */
  claim(ids: readonly string[], trialId: string): void {
    for (const id of ids) {
      const entry = this.trainers.get(id);
      if (entry === undefined) throw new CrlError('FAILED_PRECONDITION', `trainer ${id} is not registered`);
      if (entry.trialId !== undefined) {
        throw new CrlError('FAILED_PRECONDITION', `trainer ${id} is busy with trial ${entry.trialId}`);
      }
    }
    for (const id of ids) (this.trainers.get(id) as TrainerEntry).trialId = trialId;
    this.changed();
  }

  /** Frees the trainers `trialId` holds; others (and ones since re-registered elsewhere) are left alone. */
  release(ids: readonly string[], trialId: string): void {
    let any = false;
    for (const id of ids) {
      const entry = this.trainers.get(id);
      if (entry !== undefined && entry.trialId === trialId) {
        entry.trialId = undefined;
        any = true;
      }
    }
    if (any) this.changed();
  }

  /** Declares dead every trainer silent for longer than the timeout; returns them. */
  checkLiveness(): TrainerEntry[] {
    const now = this.clock.now();
    const dead = [...this.trainers.values()].filter((t) => now - t.lastHeartbeatMs > this.heartbeatTimeoutMs);
    for (const t of dead) {
      this.remove(
        t,
        `no heartbeat for ${now - t.lastHeartbeatMs} ms (timeout ${this.heartbeatTimeoutMs} ms)`,
      );
    }
    return dead;
  }

  /**
   * A trainer whose trial stream broke with UNAVAILABLE may be gone: no trial is placed on it until
   * its next heartbeat shows it alive (a dead one is removed by the heartbeat timeout as usual).
   * Waiting for the heartbeat, rather than dropping it, keeps a live trainer that merely lost a
   * connection from being forgotten.
   */
  suspect(id: string): void {
    const entry = this.trainers.get(id);
    if (entry === undefined || entry.suspect) return;
    entry.suspect = true;
    this.changed();
  }

  onDeath(listener: DeathListener): () => void {
    this.deathListeners.add(listener);
    return () => this.deathListeners.delete(listener);
  }

  /** Called after any registration, death, claim or release (for gauges). */
  onChange(listener: ChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  close(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
  }

  private remove(entry: TrainerEntry, reason: string): void {
    this.trainers.delete(entry.id);
    for (const listener of this.deathListeners) {
      try {
        listener(entry, reason);
      } catch (err) {
        // One faulty listener must not keep others from hearing of the death.
        console.error(`trainer registry: death listener failed: ${(err as Error).message}`);
      }
    }
    this.changed();
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }
}

/** Orders ids so that t2 comes before t10: people number their trainers. */
export function compareIds(a: string, b: string): number {
  const c = a.localeCompare(b, 'en', { numeric: true });
  // Ids the collation calls equal (t01 and t1) still need one fixed order.
  return c !== 0 ? c : a < b ? -1 : a > b ? 1 : 0;
}
