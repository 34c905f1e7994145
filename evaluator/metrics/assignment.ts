/**
 * Exact linear sum assignment (minimum-cost matching of rows to columns) by the Hungarian method
 * with row and column potentials and shortest augmenting paths (Jonker-Volgenant style), O(n^2 m)
 * for n = min(rows, cols) and m = max(rows, cols). MCC needs it exact: a greedy matching can
 * under-report identifiability whenever two estimates correlate with the same factor.
 */
import { invalidArgument } from '../../common/errors.js';

/** A dense cost matrix, row-major. */
export interface CostMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major, length rows * cols; every entry finite. */
  readonly data: ArrayLike<number>;
}

export interface Assignment {
  /** Column matched to each row, or -1 for a row left unmatched (only when rows > cols). */
  readonly rowToCol: Int32Array;
  /** Row matched to each column, or -1 for a column left unmatched (only when cols > rows). */
  readonly colToRow: Int32Array;
  /** Matched (row, col) pairs in increasing row order; min(rows, cols) of them. */
  readonly pairs: ReadonlyArray<readonly [row: number, col: number]>;
  /** Sum of the matched costs. */
  readonly cost: number;
}

/**
 * Minimum-cost assignment of rows to columns. Rectangular matrices match min(rows, cols) pairs:
 * every row when rows <= cols, otherwise every column. To maximise a score, pass its negation.
 *
 * @param cost a `CostMatrix` or nested arrays `cost[row][col]` (all rows of equal length)
 * @throws CrlError (INVALID_ARGUMENT) for ragged nested rows or a non-finite cost
 */
export function linearSumAssignment(cost: CostMatrix | ReadonlyArray<ArrayLike<number>>): Assignment {
  const m = toCostMatrix(cost);
  const { rows, cols, data } = m;
  for (let k = 0; k < rows * cols; k++) {
    if (!Number.isFinite(data[k])) {
      const r = Math.floor(k / cols);
      throw invalidArgument(`cost[${r}][${k - r * cols}] is ${data[k]}; costs must be finite`);
    }
  }
  const rowToCol = new Int32Array(rows).fill(-1);
  const colToRow = new Int32Array(cols).fill(-1);
  if (rows === 0 || cols === 0) return { rowToCol, colToRow, pairs: [], cost: 0 };

  // The solver wants rows <= cols; a tall matrix is solved as its transpose.
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const w = transposed ? rows : cols;
  const a = new Float64Array(n * w);
  if (transposed) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) a[j * w + i] = data[i * cols + j] as number;
  } else {
    for (let k = 0; k < n * w; k++) a[k] = data[k] as number;
  }
  const match = solveWide(a, n, w);

  const pairs: Array<readonly [number, number]> = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const j = match[i] as number;
    const [r, c] = transposed ? [j, i] : [i, j];
    rowToCol[r] = c;
    colToRow[c] = r;
  }
  for (let r = 0; r < rows; r++) {
    const c = rowToCol[r] as number;
    if (c < 0) continue;
    pairs.push([r, c]);
    // Summed from the inputs rather than read off the potentials, so the total is exact.
    total += data[r * cols + c] as number;
  }
  return { rowToCol, colToRow, pairs, cost: total };
}

/**
 * Core solver for n <= w: returns the column of each row. Rows are inserted one at a time; each
 * insertion grows a shortest-path tree over reduced costs (Dijkstra with `minv` as the frontier)
 * until it reaches a free column, then flips the alternating path. Index 0 of the column arrays
 * is a virtual column holding the row being inserted, which keeps the loop free of special cases.
 */
function solveWide(a: Float64Array, n: number, w: number): Int32Array {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(w + 1);
  const p = new Int32Array(w + 1); // p[j]: 1-based row matched to column j, 0 when free
  const way = new Int32Array(w + 1);
  const minv = new Float64Array(w + 1);
  const used = new Uint8Array(w + 1);

  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0] as number;
      const rowBase = (i0 - 1) * w - 1;
      const ui0 = u[i0] as number;
      let delta = Infinity;
      let j1 = -1;
      for (let j = 1; j <= w; j++) {
        if (used[j]) continue;
        const cur = (a[rowBase + j] as number) - ui0 - (v[j] as number);
        if (cur < (minv[j] as number)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= w; j++) {
        if (used[j]) {
          const pj = p[j] as number;
          u[pj] = (u[pj] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else {
          minv[j] = (minv[j] as number) - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] as number;
      p[j0] = p[j1] as number;
      j0 = j1;
    } while (j0 !== 0);
  }

  const match = new Int32Array(n);
  for (let j = 1; j <= w; j++) {
    const row = p[j] as number;
    if (row !== 0) match[row - 1] = j - 1;
  }
  return match;
}

function toCostMatrix(cost: CostMatrix | ReadonlyArray<ArrayLike<number>>): CostMatrix {
  if (!isNested(cost)) {
    if (cost.data.length !== cost.rows * cost.cols) {
      throw invalidArgument(
        `cost matrix has ${cost.data.length} entries, expected ${cost.rows} x ${cost.cols}`,
      );
    }
    return cost;
  }
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  const data = new Float64Array(rows * cols);
  cost.forEach((row, i) => {
    if (row.length !== cols) {
      throw invalidArgument(`cost row ${i} has ${row.length} entries, row 0 has ${cols}`);
    }
    for (let j = 0; j < cols; j++) data[i * cols + j] = row[j] as number;
  });
  return { rows, cols, data };
}

function isNested(
  cost: CostMatrix | ReadonlyArray<ArrayLike<number>>,
): cost is ReadonlyArray<ArrayLike<number>> {
  return Array.isArray(cost);
}
