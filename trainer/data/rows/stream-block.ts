/**
 * A block that reads rows from files when a batch asks for them: memory is one batch, whatever the
 * cohort's size. Raw values come from a `RowReader` (an NPY array, or one file per participant),
 * are standardised with statistics computed once in a streaming pass, and land at the participant's
 * position in the joined cohort.
 */
import { invalidArgument } from '../../../common/errors.js';
import { rowChunks, type RowBlock } from './block.js';
import { applyScaling, ScalingAccumulator, type Scaling } from './standardize.js';

/** Raw rows of one modality's files, by source row (the file's own row order). */
export interface RowReader {
  /** Source rows. */
  readonly rows: number;
  /** Values per row. */
  readonly width: number;
  /** Raw values of `sourceRows` as float32, row-major into `out` from offset 0. */
  read(sourceRows: Int32Array, out: Float32Array): void;
  /** Where a source row lives, for error messages: the file, and the participant when keyed. */
  where(sourceRow: number): { file: string; participant?: string; row?: number };
  close(): void;
}

export class StreamBlock implements RowBlock {
  readonly width: number;
  readonly present: Uint8Array | undefined;
  private scratch = new Float32Array(0);
  private closed = false;

  /**
   * `rowOf[p]` is participant p's source row, or -1 where the participant lacks the modality;
   * undefined: participant p is source row p.
   */
  constructor(
    readonly name: string,
    private readonly reader: RowReader,
    readonly n: number,
    private readonly rowOf: Int32Array | undefined,
    readonly scaling: Scaling,
  ) {
    this.width = reader.width;
    if (rowOf === undefined && reader.rows !== n) {
      throw new RangeError(`block ${name}: ${reader.rows} source rows for ${n} participants`);
    }
    this.present = rowOf === undefined ? undefined : Uint8Array.from(rowOf, (r) => (r >= 0 ? 1 : 0));
  }

  read(rows: ArrayLike<number>, out = new Float32Array(rows.length * this.width)): Float32Array {
    const w = this.width;
    const src = new Int32Array(rows.length);
    const at = new Int32Array(rows.length);
    let k = 0;
    for (let i = 0; i < rows.length; i++) {
      const p = rows[i] as number;
      if (!(p >= 0 && p < this.n)) throw new RangeError(`block ${this.name}: row ${p} of ${this.n}`);
      const s = this.rowOf === undefined ? p : (this.rowOf[p] as number);
      if (s < 0) {
        out.fill(0, i * w, i * w + w);
        continue;
      }
      src[k] = s;
      at[k] = i;
      k++;
    }
    if (k === 0) return out;
    if (this.scratch.length < k * w) this.scratch = new Float32Array(k * w);
    const raw = this.scratch.subarray(0, k * w);
    this.reader.read(src.subarray(0, k), raw);
    applyScaling(this.scaling, raw, k, w);
    for (let j = 0; j < k; j++) out.set(raw.subarray(j * w, j * w + w), (at[j] as number) * w);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.close();
  }
}

/**
 * One streaming pass over every source row: the standardisation statistics, and the check that
 * every value is finite (the error names the file, row and participant).
 */
export function scanScaling(
  name: string,
  reader: RowReader,
  per: Scaling['per'],
  groups: number,
  chunk = 512,
): Scaling {
  const acc = new ScalingAccumulator(name, per, reader.width, groups);
  const buf = new Float32Array(chunk * reader.width);
  for (const rows of rowChunks(reader.rows, chunk)) {
    const raw = buf.subarray(0, rows.length * reader.width);
    reader.read(rows, raw);
    for (let i = 0; i < raw.length; i++) {
      if (!Number.isFinite(raw[i] as number)) {
        const row = (rows[0] as number) + Math.floor(i / reader.width);
        const where = reader.where(row);
        throw invalidArgument(
          `non-finite value ${raw[i]} at value ${(i % reader.width) + 1} of row ${row + 1}` +
            (where.participant === undefined ? '' : ` (participant ${where.participant})`),
          { file: where.file },
        );
      }
    }
    acc.add(raw, rows.length);
  }
  return acc.finish();
}
