/**
 * What the training engines read: one modality's rows, standardised, by participant index. A block
 * either holds its (small) data in memory or streams rows from files on demand, so a trainer that
 * owns an image modality of a 100,000-participant cohort holds a batch, not the cohort.
 */
export interface RowBlock {
  readonly name: string;
  /** Participants (rows of the joined cohort). */
  readonly n: number;
  /** Values per row, flattened in the modality's row shape. */
  readonly width: number;
  /** 1 where the participant has this modality, 0 where it is missing; undefined: all present. */
  readonly present: Uint8Array | undefined;
  /**
   * Standardised rows of the given participants, row-major into `out` (allocated when absent).
   * A missing participant's row is zeros (the standardised mean), masked out of the losses.
   */
  read(rows: ArrayLike<number>, out?: Float32Array): Float32Array;
  /** Releases open files (idempotent; the engine that reads the block closes it). */
  close(): void;
}

/** Rows already standardised in memory (tabular modalities, synthetic presets). */
export class DenseBlock implements RowBlock {
  readonly n: number;

  constructor(
    readonly name: string,
    readonly data: Float32Array,
    readonly width: number,
    readonly present: Uint8Array | undefined = undefined,
  ) {
    if (width < 1 || data.length % width !== 0) {
      throw new RangeError(`block ${name}: ${data.length} values do not split into rows of ${width}`);
    }
    this.n = data.length / width;
    if (present !== undefined && present.length !== this.n) {
      throw new RangeError(`block ${name}: presence mask of ${present.length} for ${this.n} rows`);
    }
  }

  read(rows: ArrayLike<number>, out = new Float32Array(rows.length * this.width)): Float32Array {
    const w = this.width;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as number;
      if (!(r >= 0 && r < this.n)) throw new RangeError(`block ${this.name}: row ${r} of ${this.n}`);
      out.set(this.data.subarray(r * w, r * w + w), i * w);
    }
    return out;
  }

  close(): void {}
}

/** Rows 0..n-1 in chunks, for passes over every participant (latents, statistics). */
export function* rowChunks(n: number, chunk: number): Generator<Int32Array> {
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const rows = new Int32Array(size);
    for (let i = 0; i < size; i++) rows[i] = start + i;
    yield rows;
  }
}

/** Participants present in every block (complete cases), or undefined when nobody lacks anything. */
export function completeRows(
  presence: readonly (Uint8Array | undefined)[],
  n: number,
): Uint8Array | undefined {
  const masks = presence.filter((p): p is Uint8Array => p !== undefined);
  if (masks.length === 0) return undefined;
  const out = new Uint8Array(n).fill(1);
  for (const m of masks) for (let i = 0; i < n; i++) out[i] = (out[i] as number) & (m[i] as number);
  return out;
}

/**
 * Cells (row-major n x d over the latents, modality blocks of `latents[m]` columns in order) that
 * have no estimate because the participant lacks that modality; undefined when every cell has one.
 */
export function missingLatentCells(
  latents: readonly number[],
  presence: readonly (Uint8Array | undefined)[],
  n: number,
): Uint8Array | undefined {
  if (presence.every((p) => p === undefined)) return undefined;
  const d = latents.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(n * d);
  let col = 0;
  latents.forEach((k, m) => {
    const p = presence[m];
    if (p !== undefined) {
      for (let r = 0; r < n; r++) if (!p[r]) out.fill(1, r * d + col, r * d + col + k);
    }
    col += k;
  });
  return out;
}
