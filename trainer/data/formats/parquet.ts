/**
 * Numeric Parquet tables, the usual export of tabular cohorts from pandas, Spark or DuckDB. Read
 * with hyparquet (pure JavaScript, column by column, no row objects); written with
 * hyparquet-writer. The rules match the CSV reader's: every value finite and present, an optional
 * participant ID column kept as text, and every rejection naming the file, row and column.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, ColumnData, FileMetaData, SchemaElement } from 'hyparquet';
import { parquetWriteFile, type ColumnSource } from 'hyparquet-writer';
import { invalidArgument } from '../../../common/errors.js';
import { columnsOf, makeTable, type Table } from '../../../common/matrix.js';
import { replaceAtomically } from './npy.js';

export interface ParquetTable {
  /** The ID column's values as text, when `idColumn` was given. */
  ids: string[] | undefined;
  table: Table;
}

export interface ReadParquetOptions {
  /** A participant ID column: text, or integers formatted in decimal. */
  idColumn?: string;
  /** Numeric columns to read, in this order; default every column but the ID column, in file order. */
  columns?: readonly string[];
}

export async function readParquetTable(file: string, opts: ReadParquetOptions = {}): Promise<ParquetTable> {
  let buffer: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    buffer = await asyncBufferFromFile(file);
  } catch (err) {
    throw invalidArgument(`cannot read Parquet file: ${(err as Error).message}`, { file }, err);
  }
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (err) {
    throw invalidArgument(`is not a readable Parquet file: ${(err as Error).message}`, { file }, err);
  }

  const fields = parquetSchema(metadata).children.map((c) => ({
    el: c.element,
    nested: c.children.length > 0,
  }));
  const names = fields.map((f) => f.el.name);
  const listing = names.join(', ');
  const { idColumn } = opts;
  if (idColumn !== undefined && !names.includes(idColumn)) {
    throw invalidArgument(`has no participant ID column "${idColumn}" (columns: ${listing})`, { file });
  }
  const columns = opts.columns ?? names.filter((c) => c !== idColumn);
  const seen = new Set<string>();
  for (const c of columns) {
    if (!names.includes(c)) throw invalidArgument(`has no column "${c}" (columns: ${listing})`, { file });
    if (c === idColumn) {
      throw invalidArgument('is the participant ID column and cannot also be a numeric column', {
        file,
        column: c,
      });
    }
    if (seen.has(c)) throw invalidArgument('is requested twice', { file, column: c });
    seen.add(c);
  }
  for (const f of fields) {
    if (f.el.name === idColumn || seen.has(f.el.name)) {
      const why = f.nested
        ? 'a nested (group) column'
        : f.el.name === idColumn
          ? undefined
          : nonNumeric(f.el);
      if (why !== undefined) {
        throw invalidArgument(
          f.el.name === idColumn ? `participant ID column is ${why}` : `is not numeric (${why})`,
          { file, column: f.el.name },
        );
      }
    }
  }

  const nRows = Number(metadata.num_rows);
  const p = columns.length;
  const data = new Float64Array(nRows * p);
  const ids = idColumn === undefined ? undefined : new Array<string>(nRows);
  const slot = new Map(columns.map((c, j) => [c, j]));
  let filled = 0;
  // hyparquet calls onChunk from promise callbacks it does not await, so a throw there would be an
  // unhandled rejection; the first error is kept and thrown once every chunk has arrived.
  let failure: unknown;
  const onChunk = (chunk: ColumnData): void => {
    if (failure !== undefined) return;
    const { columnName, columnData, rowStart, rowEnd } = chunk;
    try {
      if (columnName === idColumn) {
        fillIds(ids as string[], columnData, rowStart, rowEnd, file, columnName);
      } else {
        const j = slot.get(columnName);
        if (j === undefined) return;
        fillColumn(data, p, j, columnData, rowStart, rowEnd, file, columnName);
      }
      filled += rowEnd - rowStart;
    } catch (err) {
      failure = err;
    }
  };
  try {
    await parquetRead({
      file: buffer,
      metadata,
      columns: idColumn === undefined ? [...columns] : [idColumn, ...columns],
      onChunk,
    });
  } catch (err) {
    throw invalidArgument(`cannot decode Parquet data: ${(err as Error).message}`, { file }, err);
  }
  if (failure !== undefined) throw failure;
  const expected = nRows * (p + (idColumn === undefined ? 0 : 1));
  if (filled !== expected) {
    throw invalidArgument(`decoded ${filled} values, the footer promises ${expected}`, { file });
  }
  return { ids, table: makeTable([...columns], nRows, data) };
}

/** Why a column's schema cannot hold plain numbers, or undefined when it can. */
function nonNumeric(el: SchemaElement): string | undefined {
  const logical = el.logical_type?.type;
  const converted = el.converted_type;
  if (logical === 'DECIMAL' || converted === 'DECIMAL' || logical === 'FLOAT16') return undefined;
  const kind = [el.type, logical ?? converted].filter((x) => x !== undefined).join('/');
  if (el.type !== 'INT32' && el.type !== 'INT64' && el.type !== 'FLOAT' && el.type !== 'DOUBLE') return kind;
  // Dates and times are stored as integers but decoded as Date objects; not a measurement.
  if (logical === 'DATE' || logical === 'TIME' || logical === 'TIMESTAMP' || logical === 'INTERVAL')
    return kind;
  if (converted !== undefined && /^(DATE|TIME|TIMESTAMP|INTERVAL)/.test(converted)) return kind;
  return undefined;
}

function fillColumn(
  data: Float64Array,
  p: number,
  j: number,
  values: ArrayLike<unknown>,
  rowStart: number,
  rowEnd: number,
  file: string,
  column: string,
): void {
  for (let r = rowStart; r < rowEnd; r++) {
    const v = values[r - rowStart];
    let x: number;
    if (typeof v === 'number') x = v;
    else if (typeof v === 'bigint') {
      x = Number(v);
      if (!Number.isSafeInteger(x)) {
        throw invalidArgument(`row ${r + 1}: ${v} is too large to be exact as a double`, { file, column });
      }
    } else {
      const what = v === null || v === undefined ? ' is null' : `: ${describe(v)} is not a number`;
      throw invalidArgument(`row ${r + 1}${what}`, { file, column });
    }
    if (!Number.isFinite(x)) throw invalidArgument(`row ${r + 1}: ${x} is not allowed`, { file, column });
    data[r * p + j] = x;
  }
}

function fillIds(
  ids: string[],
  values: ArrayLike<unknown>,
  rowStart: number,
  rowEnd: number,
  file: string,
  column: string,
): void {
  for (let r = rowStart; r < rowEnd; r++) {
    const v = values[r - rowStart];
    let id: string;
    if (typeof v === 'string') id = v.trim();
    else if (typeof v === 'bigint') id = v.toString(10);
    else if (typeof v === 'number' && Number.isSafeInteger(v)) id = String(v);
    else if (v === null || v === undefined) id = '';
    else {
      throw invalidArgument(`row ${r + 1}: participant ID ${describe(v)} is not text or an integer`, {
        file,
        column,
      });
    }
    if (id === '') throw invalidArgument(`row ${r + 1}: empty participant ID`, { file, column });
    ids[r] = id;
  }
}

function describe(v: unknown): string {
  if (v instanceof Date) return `date ${v.toISOString()}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return typeof v;
}

export interface WriteParquetOptions {
  table: Table;
  /** Columns of `table` to write, in this order; default all. */
  columns?: readonly string[];
  /** Participant IDs, one per row, written first as a text column. */
  ids?: readonly string[];
  /** Name of the ID column; default "participant_id". */
  idColumn?: string;
}

/** Writes doubles (and text IDs) via a temporary file and a rename; readers never see half a file. */
export function writeParquetTable(file: string, opts: WriteParquetOptions): void {
  const { table, ids } = opts;
  const idColumn = opts.idColumn ?? 'participant_id';
  const names = opts.columns ?? table.columns;
  const index = names.map((c) => {
    const j = table.columns.indexOf(c);
    if (j < 0)
      throw invalidArgument(`table has no column "${c}" (columns: ${table.columns.join(', ')})`, { file });
    return j;
  });
  if (new Set(names).size !== names.length) throw invalidArgument('a column is listed twice', { file });
  if (ids !== undefined) {
    if (ids.length !== table.nRows) {
      throw invalidArgument(`${ids.length} participant IDs for ${table.nRows} rows`, {
        file,
        column: idColumn,
      });
    }
    if (names.includes(idColumn)) {
      throw invalidArgument('is both the ID column and a numeric column', { file, column: idColumn });
    }
    ids.forEach((id, r) => {
      if (id === '') throw invalidArgument(`row ${r + 1}: empty participant ID`, { file, column: idColumn });
    });
  }
  const cols = columnsOf(table);
  const columnData: ColumnSource[] = index.map((j, k) => {
    const name = names[k] as string;
    const values = cols[j] as Float64Array;
    for (let r = 0; r < values.length; r++) {
      const v = values[r] as number;
      if (!Number.isFinite(v))
        throw invalidArgument(`row ${r + 1}: ${v} is not allowed`, { file, column: name });
    }
    return { name, data: values, type: 'DOUBLE', nullable: false };
  });
  if (ids !== undefined)
    columnData.unshift({ name: idColumn, data: [...ids], type: 'STRING', nullable: false });
  replaceAtomically(file, (tmp) => parquetWriteFile({ filename: tmp, columnData }));
}
