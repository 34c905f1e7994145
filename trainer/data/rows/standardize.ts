/**
 * Standardisation statistics, computed once over the participants who have the modality and stored
 * with the run (`scaling.json`), so latents of new data can be computed on the same scale. Tabular
 * data get a mean and standard deviation per column; images and time series one per channel, since
 * a per-pixel scale would blow up the noise of nearly constant border pixels.
 */
export interface Scaling {
  name: string;
  /** `column`: one statistic per value of a row; `channel`: per channel (last axis of the shape). */
  per: 'column' | 'channel';
  mean: number[];
  std: number[];
}

/** Streaming sums for a mean and standard deviation per group (Welford-free: doubles suffice). */
export class ScalingAccumulator {
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly count: Float64Array;

  constructor(
    readonly name: string,
    readonly per: 'column' | 'channel',
    readonly width: number,
    readonly groups: number,
  ) {
    if (width % groups !== 0) throw new RangeError(`${width} values do not split into ${groups} groups`);
    this.sum = new Float64Array(groups);
    this.sumSq = new Float64Array(groups);
    this.count = new Float64Array(groups);
  }

  /** Adds `rows` raw rows of `data` (row-major, `width` each). Values must be finite. */
  add(data: ArrayLike<number>, rows: number): void {
    const g = this.groups;
    const w = this.width;
    // Values of a row cycle through the groups when per channel (channels last), and map one to one
    // when per column.
    for (let r = 0; r < rows; r++) {
      const base = r * w;
      for (let j = 0; j < w; j++) {
        const v = data[base + j] as number;
        const k = j % g;
        this.sum[k] = (this.sum[k] as number) + v;
        this.sumSq[k] = (this.sumSq[k] as number) + v * v;
      }
    }
    const perRow = w / g;
    for (let k = 0; k < g; k++) this.count[k] = (this.count[k] as number) + rows * perRow;
  }

  finish(): Scaling {
    const mean: number[] = [];
    const std: number[] = [];
    for (let k = 0; k < this.groups; k++) {
      const c = this.count[k] as number;
      const m = c > 0 ? (this.sum[k] as number) / c : 0;
      const v = c > 1 ? ((this.sumSq[k] as number) - c * m * m) / (c - 1) : 0;
      const s = Math.sqrt(Math.max(0, v));
      mean.push(m);
      // A constant column carries nothing; dividing by 1 keeps it at zero instead of at infinity.
      std.push(s > 1e-12 ? s : 1);
    }
    return { name: this.name, per: this.per, mean, std };
  }
}

/** Standardises `rows` rows of raw values in place. */
export function applyScaling(s: Scaling, data: Float32Array, rows: number, width: number): void {
  const g = s.mean.length;
  const inv = s.std.map((x) => 1 / x);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let j = 0; j < width; j++) {
      const k = j % g;
      data[base + j] = ((data[base + j] as number) - (s.mean[k] as number)) * (inv[k] as number);
    }
  }
}
