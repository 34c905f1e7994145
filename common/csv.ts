/**
 * Numeric CSV with a header row: the exchange format for observations, latents and metric inputs.
 * Every rejection names the file, the 1-based line and the column, because the typical failure is
 * one bad cell in a 100,000-row export and the user must be able to find it.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from './errors.js';
import { makeTable, type Table } from './matrix.js';

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function readNumericCsv(path: string): Table {
  return parseNumericCsv(readCsvText(path), path);
}

/** A CSV file's text; an unreadable file is an error naming it. */
export function readCsvText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw invalidArgument(`cannot read CSV: ${(err as Error).message}`, { file: path }, err);
  }
}

/** Parses CSV text; `file` only labels errors. */
export function parseNumericCsv(text: string, file = '<csv>', opts: CsvOptions = {}): Table {
  return parseCsv(text, file, undefined, opts).table;
}

export interface CsvOptions {
  /**
   * Read an empty cell as NaN instead of refusing it: for files where blank means "does not
   * exist", such as the latents of a modality a participant lacks.
   */
  allowBlank?: boolean;
}

/** A numeric table whose rows are keyed by a participant ID column (kept as text). */
export interface KeyedTable {
  ids: string[];
  table: Table;
}

export function readKeyedCsv(path: string, idColumn: string, opts: CsvOptions = {}): KeyedTable {
  return parseKeyedCsv(readCsvText(path), idColumn, path, opts);
}

/**
 * Parses CSV text with one text column `idColumn` (which must be present and non-empty in every
 * row) and numeric others. Duplicate IDs are left to the caller, which knows what they join.
 */
export function parseKeyedCsv(
  text: string,
  idColumn: string,
  file = '<csv>',
  opts: CsvOptions = {},
): KeyedTable {
  const { ids, table } = parseCsv(text, file, idColumn, opts);
  return { ids: ids as string[], table };
}

function parseCsv(
  text: string,
  file: string,
  idColumn: string | undefined,
  opts: CsvOptions,
): { ids: string[] | undefined; table: Table } {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  // A final newline leaves one empty trailing entry; blank lines elsewhere are errors.
  if (lines.length > 0 && stripCr(lines[lines.length - 1] as string) === '') lines.pop();
  if (lines.length === 0) throw invalidArgument('file is empty (expected a header row)', { file });

  const header = splitLine(stripCr(lines[0] as string), file, 1).map((c) => c.trim());
  const seen = new Set<string>();
  header.forEach((name, j) => {
    if (name === '') throw invalidArgument(`header column ${j + 1} is empty`, { file, line: 1 });
    if (seen.has(name)) throw invalidArgument(`duplicate header column`, { file, line: 1, column: name });
    seen.add(name);
  });
  const idAt = idColumn === undefined ? -1 : header.indexOf(idColumn);
  if (idColumn !== undefined && idAt < 0) {
    throw invalidArgument(`has no participant ID column "${idColumn}" (header: ${header.join(', ')})`, {
      file,
      line: 1,
    });
  }
  const columns = header.filter((_, j) => j !== idAt);

  const width = header.length;
  const p = columns.length;
  const nRows = lines.length - 1;
  const data = new Float64Array(nRows * p);
  const ids: string[] | undefined = idAt < 0 ? undefined : new Array<string>(nRows);
  for (let r = 0; r < nRows; r++) {
    const lineNo = r + 2;
    const line = stripCr(lines[r + 1] as string);
    if (line.trim() === '') throw invalidArgument('empty row', { file, line: lineNo });
    const cells = splitLine(line, file, lineNo);
    if (cells.length !== width) {
      throw invalidArgument(`row has ${cells.length} fields, the header has ${width}`, {
        file,
        line: lineNo,
      });
    }
    let out = r * p;
    for (let j = 0; j < width; j++) {
      const cell = (cells[j] as string).trim();
      if (j === idAt) {
        if (cell === '') {
          throw invalidArgument('empty participant ID', { file, line: lineNo, column: idColumn as string });
        }
        (ids as string[])[r] = cell;
        continue;
      }
      if (cell === '' && opts.allowBlank) {
        data[out++] = Number.NaN;
        continue;
      }
      if (!NUMBER.test(cell)) {
        const what =
          cell === ''
            ? 'empty cell'
            : /^[+-]?(nan|inf(inity)?)$/i.test(cell)
              ? `${cell} is not allowed`
              : `${JSON.stringify(cell)} is not a number`;
        throw invalidArgument(what, { file, line: lineNo, column: header[j] as string });
      }
      data[out++] = Number(cell);
    }
  }
  return { ids, table: makeTable(columns, nRows, data) };
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Splits one CSV line; quotes are honoured only where present (numeric rows rarely have any). */
function splitLine(line: string, file: string, lineNo: number): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inQuotes) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else inQuotes = false;
      } else cur += ch;
    } else if (ch === '"') inQuotes = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (inQuotes) throw invalidArgument('unterminated quoted field', { file, line: lineNo });
  out.push(cur);
  return out;
}

/**
 * Shortest text that round-trips the value at 9 significant digits (float32 precision and then
 * some): files stay compact, and the same numbers always print the same bytes.
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot write non-finite value ${x} to CSV`);
  const v = Number(x.toPrecision(9));
  return Object.is(v, -0) ? '0' : String(v);
}

export function formatCsv(table: Table): string {
  return formatLatentsCsv(table);
}

function quoteName(name: string): string {
  return /[",\n\r]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
}

/**
 * Latents (or any table) for output: a first `participant_id` column when the rows are keyed, and
 * blank cells where `blank` (row-major, one flag per cell) says the value does not exist, such as
 * the latents of a modality the participant lacks.
 */
export function formatLatentsCsv(table: Table, ids?: readonly string[], blank?: Uint8Array): string {
  const p = table.columns.length;
  const header = [...(ids === undefined ? [] : ['participant_id']), ...table.columns].map(quoteName);
  const parts: string[] = [header.join(',')];
  for (let i = 0; i < table.nRows; i++) {
    const row: string[] = ids === undefined ? [] : [quoteName(ids[i] as string)];
    for (let j = 0; j < p; j++) {
      row.push(blank?.[i * p + j] ? '' : formatNumber(table.data[i * p + j] as number));
    }
    parts.push(row.join(','));
  }
  return parts.join('\n') + '\n';
}
