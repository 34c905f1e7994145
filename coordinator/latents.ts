/**
 * Assembling a trial's n x d latent matrix (and its n x e matrix of exogenous slots) from the chunks
 * its trainers stream back: each chunk is one modality's posterior means for a run of rows, and
 * shards split the rows between replicas. Every row of every modality must arrive exactly once over
 * all trainers: a gap or an overlap would silently pair the wrong rows with the truth.
 */
import { CrlError } from '../common/errors.js';
import { makeTable, type Table } from '../common/matrix.js';
import { decodeTensor } from '../common/rpc/tensor.js';
import type { GetLatentsResponse } from '../proto/gen/crl/v1/trainer.js';
import type { ResolvedTrialSpec, TrialModality } from './spec.js';

export interface AssembledCode {
  latents: Table;
  /** The exogenous slots, columns `eta<m>_<j>` (no columns when no modality has any). */
  exogenous: Table;
}

type Layout = Pick<
  ResolvedTrialSpec,
  'rows' | 'modalities' | 'latentNames' | 'latentOffsets' | 'exogenousNames' | 'exogenousOffsets'
>;

export class LatentAssembler {
  private readonly n: number;
  private readonly d: number;
  private readonly e: number;
  private readonly data: Float64Array;
  private readonly exo: Float64Array;
  private readonly seen: Map<string, Uint8Array>;
  private readonly byName: Map<string, TrialModality>;

  constructor(private readonly layout: Layout) {
    this.n = layout.rows;
    this.d = layout.latentNames.length;
    this.e = layout.exogenousNames.length;
    this.data = new Float64Array(this.n * this.d);
    this.exo = new Float64Array(this.n * this.e);
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
    const e = mod.exogenous;
    if ((chunk.exogenous === undefined) !== (e === 0)) {
      throw new CrlError(
        'INTERNAL',
        e === 0
          ? `${sender} sent exogenous slots for modality ${chunk.modality}, which has none`
          : `${sender} sent no exogenous slots for modality ${chunk.modality} (it has ${e})`,
      );
    }
    const eta =
      chunk.exogenous === undefined
        ? undefined
        : decodeTensor(chunk.exogenous, `exogenous slots of ${chunk.modality} from ${sender}`, {
            shape: [rows, e],
          });
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
      if (eta !== undefined) {
        const eCol0 = this.layout.exogenousOffsets.get(chunk.modality) as number;
        for (let j = 0; j < e; j++) this.exo[row * this.e + eCol0 + j] = eta.values[r * e + j] as number;
      }
    }
  }

  /** The complete matrices; throws naming the first modality with rows that never arrived. */
  finish(ownersOf: (modality: string) => string[]): AssembledCode {
    for (const [name, mark] of this.seen) {
      const missing = mark.reduce((c, v) => c + (v === 0 ? 1 : 0), 0);
      if (missing > 0) {
        throw new CrlError(
          'INTERNAL',
          `${missing} of ${this.n} rows of modality ${name} never arrived (first: row ${mark.indexOf(0)}; owners ${ownersOf(name).join(', ')})`,
        );
      }
    }
    return {
      latents: makeTable(this.layout.latentNames, this.n, this.data),
      exogenous: makeTable(this.layout.exogenousNames, this.n, this.exo),
    };
  }
}
