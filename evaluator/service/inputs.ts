/** Request tensors and column names -> named tables, with errors that name the request field. */
import { invalidArgument } from '../../common/errors.js';
import { makeTable, type Table } from '../../common/matrix.js';
import { decodeTensor } from '../../common/rpc/tensor.js';
import type { Tensor } from '../../proto/gen/crl/v1/tensor.js';

/**
 * An (n, p) tensor as a table. `names` may be empty (columns become `<prefix>1..<prefix>p`);
 * otherwise it must give one distinct, non-empty name per column.
 */
export function tableFromRequest(
  tensor: Tensor | undefined,
  tensorField: string,
  names: readonly string[],
  namesField: string,
  defaultPrefix: string,
): Table {
  const { values, shape } = decodeTensor(tensor, tensorField, { rank: 2 });
  const [n, p] = shape as [number, number];
  const columns =
    names.length === 0 ? Array.from({ length: p }, (_, j) => `${defaultPrefix}${j + 1}`) : names;
  if (columns.length !== p) {
    throw invalidArgument(`${columns.length} names for ${p} columns of ${tensorField}`, {
      field: namesField,
    });
  }
  const empty = columns.findIndex((c) => c === '');
  if (empty >= 0) throw invalidArgument(`name ${empty} is empty`, { field: namesField });
  const dup = columns.find((c, i) => columns.indexOf(c) !== i);
  if (dup !== undefined)
    throw invalidArgument(`name ${JSON.stringify(dup)} is given twice`, { field: namesField });
  return makeTable([...columns], n, Float64Array.from(values));
}

/** Rows are paired by position, so both tables must have the same number. */
export function requireSameRowCount(a: Table, aField: string, b: Table, bField: string): void {
  if (a.nRows === b.nRows) return;
  throw invalidArgument(
    `${aField} has ${a.nRows} rows but ${bField} has ${b.nRows} (rows are paired by position)`,
    { field: bField },
  );
}
