/**
 * CrlError <-> gRPC status. Handlers throw CrlError like any library code; these wrappers turn
 * what they throw into a status the client can branch on, so a bad request never takes the
 * server down and a client sees the same code and message a local caller would.
 */
import {
  Metadata,
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { CrlError, type CrlErrorCode } from '../errors.js';

const TO_GRPC: Readonly<Record<CrlErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
  INTERNAL: status.INTERNAL,
};

/** The gRPC status code a CrlError code travels as. */
export function grpcStatusOf(code: CrlErrorCode): status {
  return TO_GRPC[code];
}

/**
 * The CrlError code for a gRPC status. The six codes CrlError has map back one-to-one; the rest
 * come from transport or deadlines rather than from our handlers, so they fold into the nearest
 * meaning: a bad range is a bad argument, a call that did not complete is ABORTED (retrying may
 * help), anything else INTERNAL.
 */
export function crlCodeOf(code: status): CrlErrorCode {
  switch (code) {
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return 'INVALID_ARGUMENT';
    case status.NOT_FOUND:
      return 'NOT_FOUND';
    case status.ALREADY_EXISTS:
      return 'ALREADY_EXISTS';
    case status.FAILED_PRECONDITION:
      return 'FAILED_PRECONDITION';
    case status.ABORTED:
    case status.CANCELLED:
    case status.DEADLINE_EXCEEDED:
    case status.UNAVAILABLE:
    case status.RESOURCE_EXHAUSTED:
      return 'ABORTED';
    default:
      return 'INTERNAL';
  }
}

/** A status error as grpc-js callbacks and streams accept it. */
export type StatusError = Partial<StatusObject> & { code: status; details: string; metadata: Metadata };

/**
 * The status for anything a handler threw. A gRPC error from a downstream call keeps its status
 * (a relay should not turn NOT_FOUND into INTERNAL); anything that is neither becomes INTERNAL
 * with its message, since the client cannot act on a stack trace.
 */
export function toServiceError(err: unknown): StatusError {
  if (err instanceof CrlError)
    return { code: TO_GRPC[err.code], details: err.message, metadata: new Metadata() };
  if (isServiceError(err)) return { code: err.code, details: err.details, metadata: new Metadata() };
  const details = err instanceof Error ? err.message : String(err);
  return {
    code: status.INTERNAL,
    details: details === '' ? 'internal error' : details,
    metadata: new Metadata(),
  };
}

/** The status code `toServiceError` would give `err` (for metrics labels). */
export function statusCodeOf(err: unknown): status {
  return toServiceError(err).code;
}

/** The name of a status code, such as "INVALID_ARGUMENT". */
export function statusName(code: status): string {
  return status[code] ?? `CODE_${code}`;
}

/**
 * A client-side CrlError for a failed call. The message is the server's details unchanged (it
 * already names the field at fault); the ServiceError stays reachable as `cause`.
 */
export function fromServiceError(err: ServiceError): CrlError {
  const details = err.details === '' ? `${statusName(err.code)} from server` : err.details;
  return new CrlError(crlCodeOf(err.code), details, {}, { cause: err });
}

/** Wraps a unary handler: its result or thrown error becomes the call's response or status. */
export function unaryHandler<Req, Res>(
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // Starting from a resolved promise also catches errors thrown synchronously by fn.
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      )
      .catch((err: unknown) => reportHandlerFailure(call.getPath(), err));
  };
}

/**
 * Wraps a server-streaming handler: fn writes messages; the call then ends with OK, or with the
 * mapped status when fn throws.
 */
export function serverStreamHandler<Req, Res>(
  fn: (req: Req, call: ServerWritableStream<Req, Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        () => {
          if (!call.writableEnded) call.end();
        },
        (err: unknown) => {
          // grpc-js turns an 'error' event into the final status and ends the stream.
          if (!call.writableEnded) call.emit('error', toServiceError(err));
        },
      )
      .catch((err: unknown) => reportHandlerFailure(call.getPath(), err));
  };
}

function isServiceError(err: unknown): err is ServiceError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Partial<ServiceError>;
  return typeof e.code === 'number' && typeof e.details === 'string' && e.code in status;
}

/** Responding itself failed (the client went away mid-call): log it, never crash the server. */
function reportHandlerFailure(path: string, err: unknown): void {
  console.error(
    `grpc ${path}: failed to send the response: ${err instanceof Error ? err.message : String(err)}`,
  );
}

/**
 * A watch: `subscribe` calls `emit` with each message (the first a snapshot) and says when one is
 * final; the stream ends after a final message or when the client goes away, and `subscribe`'s
 * unsubscribe function is called either way. `subscribe` may throw (NOT_FOUND) before emitting.
 */
export function watchHandler<Req, Res>(
  subscribe: (req: Req, emit: (msg: Res, final: boolean) => void) => () => void,
): handleServerStreamingCall<Req, Res> {
  return serverStreamHandler(
    (req, call) =>
      new Promise<void>((resolve) => {
        let done = false;
        let unsubscribe = (): void => {};
        const finish = (): void => {
          if (done) return;
          done = true;
          unsubscribe();
          resolve();
        };
        call.on('cancelled', finish);
        unsubscribe = subscribe(req, (msg, final) => {
          if (done) return;
          call.write(msg);
          if (final) finish();
        });
        if (done) unsubscribe();
      }),
  );
}
