/**
 * NumPy .npy arrays (format versions 1.0, 2.0 and 3.0; little-endian, C order), the usual export
 * of image and signal cohorts from Python. Rows are the first axis. Readers convert to float32,
 * the training dtype; `NpyRows` reads single rows with positioned reads so a 60 GB array costs
 * a few megabytes of memory. Writers produce version 1.0 files that numpy reads back unchanged.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CrlError, invalidArgument } from '../../../common/errors.js';

/**
 * The element types read and written. numpy spells one-byte types with '|' (no byte order); '<u1'
 * and '<i1', which other writers emit, are accepted and reported as '|u1' and '|i1'. '|b1' (bool)
 * is accepted because masks are stored that way; it reads as 0 and 1.
 */
export type NpyDtype = '|u1' | '|i1' | '|b1' | '<u2' | '<i2' | '<i4' | '<f4' | '<f8';

export const NPY_DTYPES: readonly NpyDtype[] = ['|u1', '|i1', '|b1', '<u2', '<i2', '<i4', '<f4', '<f8'];

/** Every typed array a writer accepts as input. */
export type NumericArray =
  | Uint8Array
  | Uint8ClampedArray
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first value: the size of magic, version, length field and header text. */
  dataOffset: number;
  /** Bytes per row (one index of the first axis); the item size for a 0-d array. */
  rowBytes: number;
}

interface DtypeInfo {
  size: number;
  /** View type over little-endian bytes (the host is checked to be little-endian). */
  view: new (buffer: ArrayBuffer, byteOffset: number, length: number) => NumericArray;
  /** Integer range a written value must lie in; undefined for floating types. */
  range?: readonly [number, number];
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  '|u1': { size: 1, view: Uint8Array, range: [0, 255] },
  '|i1': { size: 1, view: Int8Array, range: [-128, 127] },
  '|b1': { size: 1, view: Uint8Array, range: [0, 1] },
  '<u2': { size: 2, view: Uint16Array, range: [0, 65535] },
  '<i2': { size: 2, view: Int16Array, range: [-32768, 32767] },
  '<i4': { size: 4, view: Int32Array, range: [-2147483648, 2147483647] },
  '<f4': { size: 4, view: Float32Array },
  '<f8': { size: 8, view: Float64Array },
};

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"
/** numpy aligns the data to 64 bytes so memory-mapped arrays of any dtype are aligned. */
const ALIGN = 64;
/** Scratch for coalesced row reads: large enough to amortise a syscall, small enough to ignore. */
const SCRATCH_BYTES = 4 << 20;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

// ---------------------------------------------------------------------------------------------
// Header

export function readNpyHeader(file: string): NpyHeader {
  const fd = openOrThrow(file, 'r');
  try {
    return readHeaderFd(fd, file);
  } finally {
    closeSync(fd);
  }
}

function readHeaderFd(fd: number, file: string): NpyHeader {
  const size = fstatSync(fd).size;
  const prefix = Buffer.alloc(12);
  const got = readSync(fd, prefix, 0, 12, 0);
  const { headerLen, lenBytes, encoding } = parsePrefix(prefix.subarray(0, got), file);
  const text = Buffer.alloc(headerLen);
  if (readSync(fd, text, 0, headerLen, 8 + lenBytes) !== headerLen) {
    throw invalidArgument(
      `truncated: the header needs ${8 + lenBytes + headerLen} bytes, the file has ${size}`,
      {
        file,
      },
    );
  }
  return finishHeader(text.toString(encoding), 8 + lenBytes + headerLen, size, file);
}

function parseHeaderBytes(bytes: Uint8Array, file: string): NpyHeader {
  const { headerLen, lenBytes, encoding } = parsePrefix(bytes, file);
  const dataOffset = 8 + lenBytes + headerLen;
  if (bytes.length < dataOffset) {
    throw invalidArgument(`truncated: the header needs ${dataOffset} bytes, the file has ${bytes.length}`, {
      file,
    });
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + 8 + lenBytes, headerLen).toString(encoding);
  return finishHeader(text, dataOffset, bytes.length, file);
}

function parsePrefix(
  prefix: Uint8Array,
  file: string,
): { headerLen: number; lenBytes: number; encoding: BufferEncoding } {
  if (prefix.length < 10 || !MAGIC.equals(prefix.subarray(0, 6))) {
    throw invalidArgument('is not a .npy file (it does not start with "\\x93NUMPY")', { file });
  }
  const major = prefix[6] as number;
  const minor = prefix[7] as number;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  if (major === 1 && minor === 0)
    return { headerLen: view.getUint16(8, true), lenBytes: 2, encoding: 'latin1' };
  if ((major === 2 || major === 3) && minor === 0) {
    if (prefix.length < 12) throw invalidArgument('truncated in the .npy header length', { file });
    // Version 3.0 differs from 2.0 only in allowing UTF-8 in the header (structured field names).
    return { headerLen: view.getUint32(8, true), lenBytes: 4, encoding: major === 3 ? 'utf8' : 'latin1' };
  }
  throw invalidArgument(`has .npy format version ${major}.${minor}; supported: 1.0, 2.0, 3.0`, { file });
}

/** Parses the header's Python dict literal; only the three keys numpy writes are understood. */
function finishHeader(text: string, dataOffset: number, fileSize: number, file: string): NpyHeader {
  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  if (descr === null) {
    const structured = /['"]descr['"]\s*:\s*\[/.test(text);
    throw invalidArgument(
      structured
        ? 'has a structured dtype (a list of fields); only plain numeric arrays are supported'
        : `header has no 'descr' entry: ${JSON.stringify(text.trim())}`,
      { file },
    );
  }
  const dtype = normaliseDtype(descr[2] as string, file);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (fortran === null) {
    throw invalidArgument(`header has no 'fortran_order' entry: ${JSON.stringify(text.trim())}`, { file });
  }
  if (fortran[1] === 'True') {
    throw invalidArgument(
      'is stored in Fortran (column-major) order; save it in C order (numpy.ascontiguousarray) first',
      { file },
    );
  }
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (shapeMatch === null) {
    throw invalidArgument(`header has no 'shape' entry: ${JSON.stringify(text.trim())}`, { file });
  }
  const shape = (shapeMatch[1] as string)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      // Python 2 wrote longs with an L suffix.
      const m = /^(\d+)L?$/.exec(s);
      const v = m === null ? NaN : Number(m[1]);
      if (!Number.isSafeInteger(v))
        throw invalidArgument(`header has an invalid shape entry "${s}"`, { file });
      return v;
    });
  const itemSize = DTYPES[dtype].size;
  const rowBytes = shape.slice(1).reduce((a, b) => a * b, 1) * itemSize;
  const need = dataOffset + shape.reduce((a, b) => a * b, 1) * itemSize;
  if (fileSize < need) {
    throw invalidArgument(
      `truncated: ${fileSize} bytes, the header's shape [${shape.join(', ')}] needs ${need}`,
      {
        file,
      },
    );
  }
  if (fileSize > need) {
    throw invalidArgument(
      `has ${fileSize} bytes, the header's shape [${shape.join(', ')}] needs ${need} (trailing data)`,
      { file },
    );
  }
  return { dtype, shape, dataOffset, rowBytes };
}

function normaliseDtype(descr: string, file: string): NpyDtype {
  const d = descr === '<u1' ? '|u1' : descr === '<i1' ? '|i1' : descr === '<b1' ? '|b1' : descr;
  if ((NPY_DTYPES as readonly string[]).includes(d)) return d as NpyDtype;
  if (d.startsWith('>') && d.length > 1 && (NPY_DTYPES as readonly string[]).includes(`<${d.slice(1)}`)) {
    throw invalidArgument(
      `has big-endian dtype '${descr}'; convert it with numpy (arr.astype('<${d.slice(1)}')) first`,
      { file },
    );
  }
  throw invalidArgument(
    `has dtype '${descr}', which is not supported (supported: ${NPY_DTYPES.join(', ')})`,
    {
      file,
    },
  );
}

/** The header text for `shape`, padded with spaces so the data start on a multiple of `ALIGN`. */
function headerBytes(dtype: NpyDtype, shape: readonly number[], minTotal = 0): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1;
  const total = Math.max(Math.ceil(unpadded / ALIGN) * ALIGN, minTotal);
  if (total - 10 > 0xffff) throw new RangeError(`npy header of ${total} bytes does not fit format 1.0`);
  const out = Buffer.alloc(total, 0x20);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(total - 10, 8);
  out.write(dict, 10, 'latin1');
  out[total - 1] = 0x0a;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Rows of an .npy file read on demand. Holds a file descriptor until `close()`. */
export class NpyRows {
  readonly file: string;
  readonly header: NpyHeader;
  /** Number of rows (the first axis). */
  readonly n: number;
  /** The shape of one row: the array's shape without its first axis. */
  readonly rowShape: readonly number[];
  /** Values per row. */
  readonly rowSize: number;
  private fd: number | undefined;
  private readonly scratch: ArrayBuffer;
  private readonly scratchBytes: Uint8Array;

  private constructor(file: string, fd: number, header: NpyHeader) {
    this.file = file;
    this.fd = fd;
    this.header = header;
    this.n = header.shape[0] as number;
    this.rowShape = header.shape.slice(1);
    this.rowSize = header.rowBytes / DTYPES[header.dtype].size;
    // Its own ArrayBuffer at offset 0, so typed views of any item size are aligned.
    this.scratch = new ArrayBuffer(
      Math.max(header.rowBytes, Math.min(SCRATCH_BYTES, header.rowBytes * this.n)),
    );
    this.scratchBytes = new Uint8Array(this.scratch);
  }

  static open(file: string): NpyRows {
    const fd = openOrThrow(file, 'r');
    try {
      const header = readHeaderFd(fd, file);
      if (header.shape.length === 0) {
        throw invalidArgument('is a 0-d array (a single value); rows need at least one axis', { file });
      }
      return new NpyRows(file, fd, header);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Reads the rows `indices` (any order, repeats allowed) as float32 into `out` from `outOffset`,
   * one row after another. Runs of consecutive indices become one read.
   */
  readRows(indices: Int32Array | readonly number[], out: Float32Array, outOffset = 0): void {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`NpyRows for ${this.file} is closed`);
    const count = indices.length;
    if (outOffset < 0 || outOffset + count * this.rowSize > out.length) {
      throw new RangeError(
        `output holds ${out.length} values; ${count} rows of ${this.rowSize} from offset ${outOffset} need ${outOffset + count * this.rowSize}`,
      );
    }
    const { rowBytes, dataOffset, dtype } = this.header;
    const maxRun = Math.max(1, Math.floor(this.scratch.byteLength / Math.max(rowBytes, 1)));
    let k = 0;
    while (k < count) {
      const first = this.checkIndex(indices[k] as number);
      let len = 1;
      while (k + len < count && len < maxRun && indices[k + len] === first + len) len++;
      if (len > 1) this.checkIndex(first + len - 1);
      const bytes = len * rowBytes;
      readFully(fd, this.scratchBytes, bytes, dataOffset + first * rowBytes, this.file);
      convertInto(dtype, this.scratch, len * this.rowSize, out, outOffset + k * this.rowSize);
      k += len;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private checkIndex(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) {
      throw invalidArgument(`row index ${i} is out of range [0, ${this.n})`, { file: this.file });
    }
    return i;
  }
}

/** The whole array as float32. For small files; use `NpyRows` for anything that may be large. */
export function readNpy(file: string): { header: NpyHeader; data: Float32Array } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw invalidArgument(`cannot read .npy file: ${(err as Error).message}`, { file }, err);
  }
  const header = parseHeaderBytes(bytes, file);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  // A copy, so the typed view is aligned whatever the header length.
  const body = new Uint8Array(bytes.subarray(header.dataOffset));
  convertInto(header.dtype, body.buffer, count, data, 0);
  return { header, data };
}

function convertInto(
  dtype: NpyDtype,
  bytes: ArrayBuffer,
  count: number,
  out: Float32Array,
  at: number,
): void {
  if (!LITTLE_ENDIAN_HOST) throw new Error('.npy reading needs a little-endian host');
  // TypedArray.set converts element types natively: much faster than a DataView loop.
  out.set(new DTYPES[dtype].view(bytes, 0, count), at);
}

function readFully(fd: number, into: Uint8Array, bytes: number, position: number, file: string): void {
  let done = 0;
  while (done < bytes) {
    const got = readSync(fd, into, done, bytes - done, position + done);
    if (got === 0) throw invalidArgument(`truncated: ended at byte ${position + done}`, { file });
    done += got;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Writes `data` (row-major, `shape`) as `dtype` in format 1.0, via a temporary file and a rename. */
export function writeNpy(file: string, data: NumericArray, shape: readonly number[], dtype: NpyDtype): void {
  checkShape(shape, file);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw invalidArgument(`has ${data.length} values, the shape [${shape.join(', ')}] needs ${count}`, {
      file,
    });
  }
  const header = headerBytes(checkDtype(dtype, file), shape);
  const body = encode(data, dtype, file, 0);
  replaceAtomically(file, (tmp) => {
    const fd = openSync(tmp, 'w');
    try {
      writeFully(fd, header, 0);
      writeFully(fd, body, header.length);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * Streams rows into an .npy file without holding them: the header is written with room for any
 * row count and rewritten with the final count on `close()`, when the file is renamed into place.
 */
export class NpyWriter {
  readonly file: string;
  readonly dtype: NpyDtype;
  readonly rowShape: readonly number[];
  readonly rowSize: number;
  private rows = 0;
  private position: number;
  private fd: number | undefined;
  private readonly tmp: string;
  private readonly headerSize: number;

  private constructor(file: string, dtype: NpyDtype, rowShape: readonly number[]) {
    this.file = file;
    this.dtype = dtype;
    this.rowShape = [...rowShape];
    this.rowSize = rowShape.reduce((a, b) => a * b, 1);
    // Sized for the largest row count a double can count exactly, so the final header always fits.
    this.headerSize = headerBytes(dtype, [Number.MAX_SAFE_INTEGER, ...rowShape]).length;
    this.tmp = tmpPathFor(file);
    this.fd = openOrThrow(this.tmp, 'w');
    try {
      writeFully(this.fd, headerBytes(dtype, [0, ...rowShape], this.headerSize), 0);
    } catch (err) {
      this.abort();
      throw err;
    }
    this.position = this.headerSize;
  }

  static create(file: string, dtype: NpyDtype, rowShape: readonly number[]): NpyWriter {
    checkShape(rowShape, file);
    if (rowShape.includes(0)) {
      // The row count is inferred from the values appended, which an empty row cannot give.
      throw invalidArgument(`row shape [${rowShape.join(', ')}] has no values`, { file });
    }
    ensureDir(file);
    return new NpyWriter(file, checkDtype(dtype, file), rowShape);
  }

  /** Rows appended so far. */
  get n(): number {
    return this.rows;
  }

  /** Appends whole rows (row-major, `rows.length` a multiple of the row size). */
  append(rows: NumericArray): void {
    const fd = this.openFd();
    if (rows.length % this.rowSize !== 0) {
      throw invalidArgument(
        `append got ${rows.length} values, not a whole number of rows of ${this.rowSize}`,
        {
          file: this.file,
        },
      );
    }
    const body = encode(rows, this.dtype, this.file, this.rows * this.rowSize);
    writeFully(fd, body, this.position);
    this.position += body.length;
    this.rows += rows.length / this.rowSize;
  }

  /** Writes the final header and moves the file into place. */
  close(): void {
    const fd = this.openFd();
    try {
      writeFully(fd, headerBytes(this.dtype, [this.rows, ...this.rowShape], this.headerSize), 0);
      closeSync(fd);
      this.fd = undefined;
      renameSync(this.tmp, this.file);
    } catch (err) {
      this.abort();
      throw err instanceof CrlError
        ? err
        : invalidArgument(`cannot write .npy file: ${(err as Error).message}`, { file: this.file }, err);
    }
  }

  /** Discards the partial file; the target is left as it was. */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`NpyWriter for ${this.file} is closed`);
    return this.fd;
  }
}

function checkDtype(dtype: string, file: string): NpyDtype {
  if (!(NPY_DTYPES as readonly string[]).includes(dtype)) {
    throw invalidArgument(`cannot write dtype '${dtype}' (supported: ${NPY_DTYPES.join(', ')})`, { file });
  }
  return dtype as NpyDtype;
}

function checkShape(shape: readonly number[], file: string): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw invalidArgument(`shape [${shape.join(', ')}] has an invalid dimension ${d}`, { file });
    }
  }
}

/**
 * `data` as little-endian bytes of `dtype`. Integer dtypes refuse values that would wrap or be
 * truncated (a typed-array conversion would do both silently); `base` numbers values in errors.
 */
function encode(data: NumericArray, dtype: NpyDtype, file: string, base: number): Uint8Array {
  if (!LITTLE_ENDIAN_HOST) throw new Error('.npy writing needs a little-endian host');
  const info = DTYPES[dtype];
  if (info.range !== undefined && !sameIntegerType(data, dtype)) {
    const [lo, hi] = info.range;
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (!(v >= lo && v <= hi && Number.isInteger(v))) {
        throw invalidArgument(`value ${v} at index ${base + i} does not fit dtype '${dtype}'`, { file });
      }
    }
  }
  const typed = new info.view(new ArrayBuffer(data.length * info.size), 0, data.length);
  typed.set(data);
  return new Uint8Array(typed.buffer, 0, typed.byteLength);
}

/** Input that cannot hold an out-of-range value for the dtype (no check needed). */
function sameIntegerType(data: NumericArray, dtype: NpyDtype): boolean {
  return (
    (dtype === '|u1' && (data instanceof Uint8Array || data instanceof Uint8ClampedArray)) ||
    (dtype === '|i1' && data instanceof Int8Array) ||
    (dtype === '<u2' && data instanceof Uint16Array) ||
    (dtype === '<i2' && data instanceof Int16Array) ||
    (dtype === '<i4' && data instanceof Int32Array)
  );
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function openOrThrow(file: string, flags: string): number {
  try {
    return openSync(file, flags);
  } catch (err) {
    throw invalidArgument(`cannot open: ${(err as Error).message}`, { file }, err);
  }
}

function ensureDir(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw invalidArgument(`cannot create directory: ${(err as Error).message}`, { file }, err);
  }
}

// ---------------------------------------------------------------------------------------------
// Atomic replacement, shared by the format writers. (common/output-dir.ts writes text only.)

/** A temporary name beside `file`, on the same filesystem so the final rename is atomic. */
function tmpPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Runs `write(tmp)` and renames `tmp` onto `file`; on failure removes `tmp` and leaves `file` as it was. */
export function replaceAtomically(file: string, write: (tmp: string) => void): void {
  ensureDir(file);
  const tmp = tmpPathFor(file);
  try {
    write(tmp);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof CrlError) throw err;
    throw invalidArgument(`cannot write: ${(err as Error).message}`, { file }, err);
  }
}
