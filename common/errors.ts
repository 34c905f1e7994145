/**
 * One error type for the whole system. `code` is what callers branch on (later mapped one-to-one
 * onto gRPC status codes); `where` names the file, row, column, flag or field at fault so a user
 * can fix their input without reading a stack trace.
 */
export type CrlErrorCode =
  'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'FAILED_PRECONDITION' | 'ABORTED' | 'INTERNAL';

export interface ErrorLocation {
  /** Path of the offending file. */
  file?: string;
  /** 1-based line number in that file (the header is line 1). */
  line?: number;
  /** Column name or 1-based column index. */
  column?: string | number;
  /** A CLI flag such as `--dims`, or a dotted field path such as `modalities[1].dims`. */
  field?: string;
}

export class CrlError extends Error {
  override readonly name = 'CrlError';
  readonly code: CrlErrorCode;
  readonly where: ErrorLocation;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(code: CrlErrorCode, message: string, where: ErrorLocation = {}, options?: ErrorOptions) {
    super(formatMessage(message, where), options);
    this.code = code;
    this.where = where;
    this.detail = message;
  }

  /** The same error located elsewhere: `where` fields replace this one's (e.g. add the file). */
  relocated(where: ErrorLocation): CrlError {
    return new CrlError(this.code, this.detail, { ...this.where, ...where }, { cause: this });
  }
}

export function invalidArgument(message: string, where: ErrorLocation = {}, cause?: unknown): CrlError {
  return new CrlError('INVALID_ARGUMENT', message, where, cause === undefined ? undefined : { cause });
}

function formatMessage(message: string, where: ErrorLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) {
    let loc = where.file;
    if (where.line !== undefined) loc += `:${where.line}`;
    parts.push(loc);
  }
  if (where.column !== undefined) parts.push(`column ${JSON.stringify(where.column)}`);
  if (where.field !== undefined) parts.push(where.field);
  return parts.length > 0 ? `${parts.join(', ')}: ${message}` : message;
}
