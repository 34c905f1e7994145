/**
 * How sync messages move between the trainers of a group. The NATS transport is the real one; the
 * in-memory hub runs a group inside one process (tests, and the single-machine default when no
 * nats-server is installed). Both move opaque bytes: validation lives in the mailbox.
 */
export interface SyncTransport {
  publish(subject: string, payload: Uint8Array): void;
  /** Calls `onMessage` for every message on `subject` until the returned function is called. */
  subscribe(subject: string, onMessage: (payload: Uint8Array) => void): () => void;
  /** Resolves once everything published so far reached the server (no-op in memory). */
  flush(): Promise<void>;
  /** Largest payload the transport carries, in bytes. */
  readonly maxPayload: number;
}

/** The subject of a round in a trial (`crl.v1.trial.<id>.<round>`); ids are checked to be subject-safe. */
export function syncSubject(trialId: string, round: string): string {
  return `crl.v1.trial.${trialId}.${round}`;
}
