/**
 * Assembling a trial's n x d latent matrix from the chunks its trainers stream back: each chunk is
 * one modality's posterior means for a run of rows, and shards split the rows between replicas.
 * Every row of every modality must arrive exactly once over all trainers: a gap or an overlap
 * would silently pair the wrong rows with the truth.
 */
import { CrlError } from '../common/errors.js';
import { makeTable, type Table } from '../common/matrix.js';
import { decodeTensor } from '../common/rpc/tensor.js';
import type { GetLatentsResponse } from '../proto/gen/crl/v1/trainer.js';
import type { ResolvedTrialSpec, TrialModality } from './spec.js';

export class LatentAssembler {
  private readonly n: number;
  private readonly d: number;
  private readonly data: Float64Array;
  private readonly seen: Map<string, Uint8Array>;
  private readonly byName: Map<string, TrialModality>;

  constructor(
    private readonly layout: Pick<ResolvedTrialSpec, 'rows' | 'modalities' | 'latentNames' | 'latentOffsets'>,
  ) {
    this.n = layout.rows;
    this.d = layout.latentNames.length;
    this.data = new Float64Array(this.n * this.d);
    this.seen = new Map(layout.modalities.map((m) => [m.name, new Uint8Array(this.n)]));
    this.byName = new Map(layout.modalities.map((m) => [m.name, m]));
  }

  /** Places one chunk from `sender` (named in errors), which owns the modalities `owned`. */
  add(chunk: GetLatentsResponse, sender: string, owned: readonly string[]): void {
    const mod = this.byName.get(chunk.modality);
    if (mod === undefined || !owned.includes(chunk.modality)) {
      throw new CrlError(
        'INTERNAL',
        `${sender} sent latents of modality "${chunk.modality}", which it does not own`,
      );
    }
    const z = decodeTensor(chunk.z, `latents of ${chunk.modality} from ${sender}`, {
      shape: [null, mod.latents],
    });
    const rows = z.shape[0] as number;
    const start = chunk.rowOffset;
    if (!Number.isInteger(start) || start < 0 || start + rows > this.n) {
      throw new CrlError(
        'INTERNAL',
        `${sender} sent rows ${start}..${start + rows - 1} of modality ${chunk.modality}; the data have rows 0..${this.n - 1}`,
      );
    }
    const mark = this.seen.get(chunk.modality) as Uint8Array;
    const col0 = this.layout.latentOffsets.get(chunk.modality) as number;
    const k = mod.latents;
    for (let r = 0; r < rows; r++) {
      const row = start + r;
      if (mark[row] === 1) {
        throw new CrlError(
          'INTERNAL',
          `row ${row} of modality ${chunk.modality} arrived twice (again from ${sender})`,
        );
      }
      mark[row] = 1;
      for (let j = 0; j < k; j++) this.data[row * this.d + col0 + j] = z.values[r * k + j] as number;
    }
  }

  /** The complete matrix; throws naming the first modality with rows that never arrived. */
  finish(ownersOf: (modality: string) => string[]): Table {
    for (const [name, mark] of this.seen) {
      const missing = mark.reduce((c, v) => c + (v === 0 ? 1 : 0), 0);
      if (missing > 0) {
        throw new CrlError(
          'INTERNAL',
          `${missing} of ${this.n} rows of modality ${name} never arrived (first: row ${mark.indexOf(0)}; owners ${ownersOf(name).join(', ')})`,
        );
      }
    }
    return makeTable(this.layout.latentNames, this.n, this.data);
  }
}
