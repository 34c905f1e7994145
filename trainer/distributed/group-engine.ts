/**
 * One trainer's share of group training (DESIGN.md, "Distributed training protocol"). Per step:
 *
 *  1. every trainer runs the same loop from the same seed, so all take the same batch rows, noise
 *     seeds and learning rate; the batch is split by position into one slice per row shard;
 *  2. CODES: each encodes its modalities for its shard's slice and publishes the code blocks
 *     [sample | mean | logvar]; it gathers everyone's, so it holds the whole batch's code;
 *  3. it evaluates the coupling part of the objective (flow KL and sparsity) on the whole batch and
 *     its modalities' reconstruction on its slice, and backpropagates into its encoders/decoders
 *     and its replica of the flow and adjacency. Its own blocks are recomputed inside the gradient
 *     tape (the tape cannot span the network wait); the values are bit-identical to those sent;
 *  4. GRADS (data parallel only): replicas of a modality sum its gradients in shard order;
 *  5. STATS: each publishes its reconstruction terms and the squared gradient norms of its
 *     modalities, so every trainer knows the global norm (clipping) and the loss; then each applies
 *     Adam to what it owns.
 *
 * The shared parameters' gradient comes from the whole batch's code on every trainer, so replicas
 * compute identical updates without exchanging it; each validation pass carries a checksum of the
 * shared parameters and a divergence fails the trial. Every message carries the step and the
 * shared-parameter version (updates applied), checked on receipt.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CrlError } from '../../common/errors.js';
import { decodeTensor, encodeTensor } from '../../common/rpc/tensor.js';
import { SyncRound, type SyncBlock, type SyncMessage } from '../../proto/gen/crl/v1/sync.js';
import { rowChunks, type RowBlock } from '../data/rows/block.js';
import type { CodeBlock, CrlModel } from '../model/index.js';
import { FlatAdam, flatten, type AdamConfig } from '../training/adam.js';
import { batchMasks } from '../training/masks.js';
import type { LossValues, StepContext, StepEngine } from '../training/train.js';
import type { SyncChannel } from './channel.js';
import type { SyncKey } from './mailbox.js';
import { shardRange, type GroupTopology } from './topology.js';

export const ROUND_CODES = 'codes';
export const ROUND_STATS = 'stats';
export const gradsRound = (modality: string): string => `grads.${modality}`;

/** The rounds a member subscribes to. */
export function roundsFor(model: CrlModel, topology: GroupTopology): string[] {
  const rounds = [ROUND_CODES, ROUND_STATS];
  if (topology.shards > 1) {
    for (const m of model.owned) rounds.push(gradsRound(model.config.modalities[m]?.name ?? String(m)));
  }
  return rounds;
}

export interface GroupEngineOptions {
  model: CrlModel;
  /** Blocks of the owned modalities (all dataset rows), in `model.owned` order. */
  blocks: RowBlock[];
  n: number;
  /** Presence of every modality of the model, in model order (undefined: nobody lacks any). */
  presence?: (Uint8Array | undefined)[];
  topology: GroupTopology;
  self: string;
  channel: SyncChannel;
  adam: AdamConfig;
}

export class GroupEngine implements StepEngine {
  readonly model: CrlModel;
  readonly adam: FlatAdam;
  private readonly data = new Map<number, RowBlock>();
  private readonly presence: (Uint8Array | undefined)[];
  private readonly topology: GroupTopology;
  private readonly self: string;
  private readonly shard: number;
  private readonly channel: SyncChannel;
  private readonly everyone: string[];
  private readonly names: string[];
  private readonly owned: readonly number[];
  /** Per owned modality, the indices of its encoder and decoder parameters (fixed for the run). */
  private readonly paramGroups = new Map<number, number[]>();
  /** Indices of the flow and adjacency parameters. */
  private readonly sharedParams: number[];
  /** Widths of one code block row on the wire: sample, mean and logvar for a stochastic encoder. */
  private readonly wireParts: number;

  constructor(o: GroupEngineOptions) {
    this.model = o.model;
    this.topology = o.topology;
    this.self = o.self;
    this.channel = o.channel;
    const me = o.topology.members.find((m) => m.id === o.self);
    if (me === undefined) throw new CrlError('INVALID_ARGUMENT', `trainer ${o.self} is not in its group`);
    this.shard = me.shard;
    this.owned = o.model.owned;
    if (me.modalities.join(',') !== this.owned.join(',')) {
      throw new CrlError('INVALID_ARGUMENT', `trainer ${o.self}: model part and assignment disagree`);
    }
    this.names = o.model.config.modalities.map((m) => m.name);
    this.everyone = o.topology.members.map((m) => m.id);
    this.owned.forEach((m, k) => {
      const dims = o.model.config.modalities[m]?.dims ?? 0;
      const b = o.blocks[k];
      if (b === undefined || b.width !== dims || b.n !== o.n) {
        throw new CrlError(
          'INVALID_ARGUMENT',
          `modality ${this.names[m]}: a block of ${b?.n} x ${b?.width} for ${o.n} x ${dims}`,
        );
      }
      this.data.set(m, b);
    });
    this.presence = o.presence ?? this.names.map(() => undefined);
    if (this.presence.length !== this.names.length) {
      throw new CrlError(
        'INVALID_ARGUMENT',
        `presence of ${this.presence.length} modalities for ${this.names.length}`,
      );
    }
    this.wireParts = o.model.config.stochastic ? 3 : 1;
    const params = o.model.params.list();
    for (const m of this.owned) {
      const name = this.names[m] as string;
      this.paramGroups.set(
        m,
        params.flatMap((p, i) =>
          p.name.startsWith(`enc/${name}/`) || p.name.startsWith(`dec/${name}/`) ? [i] : [],
        ),
      );
    }
    this.sharedParams = params.flatMap((p, i) => (o.model.isShared(p.name) ? [i] : []));
    this.adam = new FlatAdam(o.model.params.list(), o.adam);
  }

  async step(rows: Int32Array, ctx: StepContext): Promise<tf.Tensor1D> {
    const B = rows.length;
    const [r0, r1] = shardRange(B, this.shard, this.topology.shards);
    const mine = rows.subarray(r0, r1);
    const key = { step: ctx.step, version: this.adam.t, pass: 0 };
    const window = { batchRows: B, rowOffset: r0 };

    const codes = await this.exchangeCodes(mine, ctx.seed, window, key);
    const params = this.model.params.list();
    const { grads, ind, sp, recon } = tf.tidy(() => {
      let keep: { ind?: tf.Scalar; sp?: tf.Scalar; recon: tf.Scalar[] } = { recon: [] };
      const { grads: g } = tf.variableGrads(
        () => {
          const own = this.encodeOwn(mine, ctx.seed, window);
          const blocks = this.wholeBatch(codes, own, B);
          const { ind: i, sp: s } = this.model.objective(blocks, {
            training: true,
            seed: ctx.seed,
            masks: batchMasks(this.presence, rows),
          });
          const parts = this.ownReconstruction(own, mine, rows);
          keep = { ind: tf.keep(i), sp: tf.keep(s), recon: parts.map((p) => tf.keep(p)) };
          const { alpha } = this.model.config;
          const terms = [
            tf.mul(i, alpha.ind),
            tf.mul(s, alpha.sp * ctx.spScale),
            ...parts.map((p) => tf.mul(p, alpha.recon)),
          ];
          return tf.addN(terms) as tf.Scalar;
        },
        params.map((p) => p.variable),
      );
      const ordered = params.map((p) => tf.keep(g[p.variable.name] ?? tf.zerosLike(p.variable)));
      return { grads: ordered, ind: keep.ind as tf.Scalar, sp: keep.sp as tf.Scalar, recon: keep.recon };
    });

    try {
      const reduced = this.topology.shards > 1 ? await this.reduceReplicas(grads, key) : grads;
      const sq = tf.tidy(() => this.squaredNorms(reduced).dataSync());
      const reconParts = tf.tidy(() => (recon.length > 0 ? tf.stack(recon).dataSync() : new Float32Array(0)));
      const indV = ind.dataSync()[0] as number;
      const spV = sp.dataSync()[0] as number;
      // STATS: per owned modality, its reconstruction term on this slice and its squared gradient norm.
      const scalars: number[] = [];
      this.owned.forEach((_, k) => scalars.push(reconParts[k] as number, sq[k] as number));
      const stats = await this.exchangeStats(key, scalars);
      const { recon: reconTotal, normSq } = this.combineStats(stats, 2);
      const norm = Math.sqrt(normSq + (sq[this.owned.length] as number));
      this.adam.apply(reduced, ctx.lr, norm).dispose();
      if (reduced !== grads) reduced.forEach((t) => t.dispose());
      const { alpha } = this.model.config;
      const total = alpha.ind * indV + alpha.sp * ctx.spScale * spV + alpha.recon * reconTotal;
      return tf.tensor1d([total, indV, spV, reconTotal]);
    } finally {
      grads.forEach((t) => t.dispose());
      ind.dispose();
      sp.dispose();
      recon.forEach((t) => t.dispose());
    }
  }

  async validate(rows: Int32Array, seed: number, step: number, pass: number): Promise<LossValues> {
    const B = rows.length;
    const [r0, r1] = shardRange(B, this.shard, this.topology.shards);
    const mine = rows.subarray(r0, r1);
    const key = { step, version: this.adam.t, pass };
    const window = { batchRows: B, rowOffset: r0 };
    const codes = await this.exchangeCodes(mine, seed, window, key);
    const v = tf.tidy(() => {
      const own = this.encodeOwn(mine, seed, window);
      const { ind, sp } = this.model.objective(this.wholeBatch(codes, own, B), {
        training: false,
        seed,
        masks: batchMasks(this.presence, rows),
      });
      const parts = this.ownReconstruction(own, mine, rows);
      return tf.concat([tf.stack([ind, sp]), ...(parts.length > 0 ? [tf.stack(parts)] : [])]).dataSync();
    });
    const scalars = this.owned.map((_, k) => v[2 + k] as number);
    scalars.push(this.sharedChecksum());
    const stats = await this.exchangeStats(key, scalars);
    this.checkReplicas(stats, step);
    const { recon } = this.combineStats(stats, 1);
    const ind = v[0] as number;
    const sp = v[1] as number;
    const { alpha } = this.model.config;
    return { total: alpha.ind * ind + alpha.sp * sp + alpha.recon * recon, ind, sp, recon };
  }

  /** Posterior means of owned modality m's z for this trainer's shard of all rows. */
  latents(m: number): { rowOffset: number; rows: number; values: Float32Array; exogenous: Float32Array } {
    const x = this.data.get(m);
    if (x === undefined)
      throw new CrlError('NOT_FOUND', `modality ${this.names[m]} is not on trainer ${this.self}`);
    const [start, end] = shardRange(x.n, this.shard, this.topology.shards);
    const spec = this.model.config.modalities[m];
    const k = spec?.latents ?? 0;
    const e = spec?.exogenous ?? 0;
    const out = new Float32Array((end - start) * k);
    const exo = new Float32Array((end - start) * e);
    for (const chunk of rowChunks(end - start, 4096)) {
      const rows = chunk.map((r) => r + start);
      const code = tf.tidy(() => this.model.encodeModalityCode(m, this.rowsOf(m, rows)).dataSync());
      // The code is [z eta] per row: split it into the two outputs.
      const first = chunk[0] as number;
      for (let r = 0; r < chunk.length; r++) {
        out.set(code.subarray(r * (k + e), r * (k + e) + k), (first + r) * k);
        exo.set(code.subarray(r * (k + e) + k, (r + 1) * (k + e)), (first + r) * e);
      }
    }
    return { rowOffset: start, rows: end - start, values: out, exogenous: exo };
  }

  dispose(): void {
    for (const b of this.data.values()) b.close();
    this.data.clear();
    this.adam.dispose();
  }

  /**
   * This trainer's reconstruction terms, one per owned modality: its slice's MSE weighted by the
   * slice's share of the batch's rows that have the modality, so the shards' terms add up to the
   * batch's mean over those rows.
   */
  private ownReconstruction(own: Map<number, CodeBlock>, mine: Int32Array, batch: Int32Array): tf.Scalar[] {
    return this.owned.map((m) => {
      const p = this.presence[m];
      const code = (own.get(m) as CodeBlock).sample;
      const x = this.rowsOf(m, mine);
      if (p === undefined) {
        return tf.mul(this.model.reconstruction(m, x, code), mine.length / batch.length) as tf.Scalar;
      }
      const count = (rows: Int32Array) => rows.reduce((a, r) => a + (p[r] as number), 0);
      const share = count(mine) / Math.max(1, count(batch));
      const mask = tf.tensor1d(Float32Array.from(mine, (r) => p[r] as number));
      return tf.mul(this.model.reconstruction(m, x, code, mask), share) as tf.Scalar;
    });
  }

  private exchangeStats(key: SyncKey, scalars: number[]): Promise<Map<string, SyncMessage>> {
    return this.channel.exchange(
      ROUND_STATS,
      SyncRound.SYNC_ROUND_STATS,
      key,
      this.shard,
      [],
      scalars,
      this.everyone,
    );
  }

  private rowsOf(m: number, rows: Int32Array): tf.Tensor2D {
    const b = this.data.get(m) as RowBlock;
    return tf.tensor2d(b.read(rows), [rows.length, b.width]);
  }

  private encodeOwn(
    rows: Int32Array,
    seed: number,
    window: { batchRows: number; rowOffset: number },
  ): Map<number, CodeBlock> {
    return new Map(this.owned.map((m) => [m, this.model.encode(m, this.rowsOf(m, rows), seed, window)]));
  }

  /** Publishes this trainer's code blocks for its rows and gathers everyone's. */
  private async exchangeCodes(
    rows: Int32Array,
    seed: number,
    window: { batchRows: number; rowOffset: number },
    key: SyncKey,
  ): Promise<Map<string, SyncMessage>> {
    let blocks: SyncBlock[] = [];
    tf.tidy(() => {
      const own = this.encodeOwn(rows, seed, window);
      blocks = this.owned.map((m) => {
        const b = own.get(m) as CodeBlock;
        const parts = this.model.config.stochastic ? [b.sample, b.mean, b.logvar as tf.Tensor2D] : [b.mean];
        const wire = parts.length === 1 ? (parts[0] as tf.Tensor2D) : tf.concat(parts, 1);
        return {
          modality: this.names[m] as string,
          tensor: encodeTensor(wire.dataSync() as Float32Array, wire.shape),
        };
      });
    });
    return this.channel.exchange(
      ROUND_CODES,
      SyncRound.SYNC_ROUND_CODES,
      key,
      this.shard,
      blocks,
      [],
      this.everyone,
    );
  }

  /**
   * Every modality's code for the whole batch, rows in shard order: this trainer's live blocks (on
   * the gradient tape) and its peers' as constants.
   */
  private wholeBatch(
    codes: Map<string, SyncMessage>,
    own: Map<number, CodeBlock>,
    batchRows: number,
  ): CodeBlock[] {
    const S = this.topology.shards;
    return this.names.map((name, m) => {
      const pieces: CodeBlock[] = [];
      for (let s = 0; s < S; s++) {
        const [a, b] = shardRange(batchRows, s, S);
        const owner = this.topology.owner[s]?.[m] as string;
        if (owner === this.self) {
          pieces.push(own.get(m) as CodeBlock);
          continue;
        }
        const msg = codes.get(owner) as SyncMessage;
        const block = msg.blocks.find((x) => x.modality === name);
        const width = this.model.codeSize(m);
        const field = `${owner}: step ${msg.step} code block of ${name}`;
        if (block === undefined) throw new CrlError('INVALID_ARGUMENT', `${field} is missing`);
        const t = decodeTensor(block.tensor, field, { shape: [b - a, width * this.wireParts] });
        const all = tf.tensor2d(t.values, [b - a, width * this.wireParts]);
        if (this.wireParts === 1) pieces.push({ sample: all, mean: all, logvar: undefined });
        else {
          const [sample, mean, logvar] = tf.split(all, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
          pieces.push({ sample, mean, logvar });
        }
      }
      if (pieces.length === 1) return pieces[0] as CodeBlock;
      const cat = (f: (p: CodeBlock) => tf.Tensor2D): tf.Tensor2D => tf.concat(pieces.map(f), 0);
      return {
        sample: cat((p) => p.sample),
        mean: cat((p) => p.mean),
        logvar: this.wireParts === 1 ? undefined : cat((p) => p.logvar as tf.Tensor2D),
      };
    });
  }

  /** Sums each owned modality's gradients over its replicas, in shard order. */
  private async reduceReplicas(grads: tf.Tensor[], key: SyncKey): Promise<tf.Tensor[]> {
    const params = this.model.params.list();
    const out = grads.slice();
    for (const m of this.owned) {
      const name = this.names[m] as string;
      const idx = this.paramGroups.get(m) as number[];
      const flat = tf.tidy(() => flatten(idx.map((i) => grads[i] as tf.Tensor)));
      const values = flat.dataSync() as Float32Array;
      flat.dispose();
      const replicas = this.topology.owner.map((row) => row[m] as string);
      const got = await this.channel.exchange(
        gradsRound(name),
        SyncRound.SYNC_ROUND_GRADS,
        key,
        this.shard,
        [{ modality: name, tensor: encodeTensor(values, [values.length]) }],
        [],
        replicas,
      );
      const sum = new Float32Array(values.length);
      for (const id of replicas) {
        const msg = got.get(id) as SyncMessage;
        const t = decodeTensor(msg.blocks[0]?.tensor, `${id}: step ${msg.step} gradients of ${name}`, {
          shape: [values.length],
        });
        for (let j = 0; j < sum.length; j++) sum[j] = (sum[j] as number) + (t.values[j] as number);
      }
      let at = 0;
      for (const i of idx) {
        const p = params[i]?.variable as tf.Variable;
        out[i] = tf.tensor(sum.subarray(at, at + p.size), p.shape, 'float32');
        at += p.size;
      }
    }
    return out;
  }

  /** [|g_m|^2 for each owned modality m, |g_shared|^2]. */
  private squaredNorms(grads: readonly tf.Tensor[]): tf.Tensor1D {
    const groups = [...this.owned.map((m) => this.paramGroups.get(m) as number[]), this.sharedParams];
    return tf.stack(
      groups.map((idx) => tf.sum(tf.square(flatten(idx.map((i) => grads[i] as tf.Tensor))))),
    ) as tf.Tensor1D;
  }

  /**
   * The whole batch's reconstruction term (every modality, every shard, in that order) and the sum
   * of the modalities' squared gradient norms (once per modality: its replicas hold the same sum).
   */
  private combineStats(stats: Map<string, SyncMessage>, stride: number): { recon: number; normSq: number } {
    let recon = 0;
    let normSq = 0;
    for (let m = 0; m < this.names.length; m++) {
      for (let s = 0; s < this.topology.shards; s++) {
        const owner = this.topology.owner[s]?.[m] as string;
        const member = this.topology.members.find((x) => x.id === owner);
        const msg = stats.get(owner) as SyncMessage;
        const k = member?.modalities.indexOf(m) ?? -1;
        const need = (member?.modalities.length ?? 0) * stride + (stride === 1 ? 1 : 0);
        if (k < 0 || msg.scalars.length !== need) {
          throw new CrlError(
            'INVALID_ARGUMENT',
            `${owner}: step ${msg.step} stats carry ${msg.scalars.length} numbers, expected ${need}`,
          );
        }
        recon += msg.scalars[k * stride] as number;
        if (stride === 2 && s === 0) normSq += msg.scalars[k * stride + 1] as number;
      }
    }
    return { recon, normSq };
  }

  /** Sum and sum of squares of the shared parameters, folded into one number. */
  private sharedChecksum(): number {
    const shared = this.model.params.list().filter((p) => this.model.isShared(p.name));
    let sum = 0;
    for (const p of shared) {
      const v = p.variable.dataSync();
      for (let i = 0; i < v.length; i++) sum += (v[i] as number) * (1 + i * 1e-3);
    }
    return sum;
  }

  private checkReplicas(stats: Map<string, SyncMessage>, step: number): void {
    const mine = this.sharedChecksum();
    for (const [id, msg] of stats) {
      const theirs = msg.scalars.at(-1) as number;
      if (Math.abs(theirs - mine) > 1e-6 * Math.max(1, Math.abs(mine))) {
        throw new CrlError(
          'ABORTED',
          `shared parameters diverged between ${this.self} and ${id} at step ${step} (checksum ${mine} vs ${theirs}): the trainers must run the same backend`,
        );
      }
    }
  }
}
