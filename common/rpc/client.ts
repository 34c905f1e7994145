/** Promise shapes for grpc-js client calls, shared by every typed client. */
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { fromServiceError } from './status.js';

/** A unary call as a promise; a gRPC error becomes a CrlError, an empty response an error. */
export function unaryCall<T>(
  call: (cb: (err: ServiceError | null, value: T | undefined) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    call((err, value) => {
      if (err !== null) reject(fromServiceError(err));
      else if (value === undefined) reject(new Error('the server sent an empty response'));
      else resolve(value);
    }),
  );
}

/**
 * Follows a watch stream of snapshots until it ends: calls `onEvent` for each message and resolves
 * with the last snapshot when it is final, else with `current()` (the stream ended early).
 */
export function followStream<M, S>(
  stream: ClientReadableStream<M>,
  snapshotOf: (m: M) => S | undefined,
  isFinal: (s: S) => boolean,
  onEvent: (m: M) => void,
  current: () => Promise<S>,
): Promise<S> {
  return new Promise((resolve, reject) => {
    let last: S | undefined;
    stream.on('data', (m: M) => {
      last = snapshotOf(m) ?? last;
      onEvent(m);
    });
    stream.on('error', (err: ServiceError) => reject(fromServiceError(err)));
    stream.on('end', () => {
      if (last !== undefined && isFinal(last)) resolve(last);
      else current().then(resolve, reject);
    });
  });
}
