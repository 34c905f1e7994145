/**
 * Placing a trial's modalities on trainers. Every trainer of a group runs a whole step in
 * lockstep with the others (the z blocks and the shared gradients are exchanged every step), so
 * a step lasts as long as the most loaded trainer: placement minimises the largest load. That is
 * NP-hard in general; greedy LPT (largest cost first, each onto the least-loaded trainer) is
 * within 4/3 of optimal and, with the fixed tie-breaks below, gives the same answer for the same
 * input, so a repeated trial lands the same way.
 */
import { CrlError, invalidArgument } from '../common/errors.js';
import type { Assignment } from '../proto/gen/crl/v1/trial.js';
import { compareIds } from './registry.js';

export interface PlacedModality {
  name: string;
  /** Observed dimensions d_m. */
  dims: number;
  /** Latents k_m and exogenous e_m: the code the encoder outputs and the decoder reads. */
  latents: number;
  exogenous: number;
}

export interface ModelSize {
  /** Width of the encoder and decoder MLPs. */
  hidden: number;
  /** Hidden layers in each. */
  layers: number;
}

/** The trainer's defaults (trainer/model/config.ts DEFAULT_MODEL); overrides_json may change them. */
export const DEFAULT_MODEL_SIZE: Readonly<ModelSize> = { hidden: 64, layers: 2 };

export interface PlacementRequest {
  modalities: readonly PlacedModality[];
  /** Rows of the dataset; each replica trains on rows / replicas of them. */
  rows: number;
  /** Idle trainers to choose from. */
  idleTrainers: readonly string[];
  /** Trainers per replica (0: one per modality, as many as are idle). Above the modality count, the extra ones stay unused. */
  trainers?: number;
  /** Data-parallel replicas (row shards) of the whole partition (0 or 1: none). */
  replicas?: number;
  model?: ModelSize;
}

/**
 * Parameters of a modality's encoder plus decoder: each is an MLP between d_m inputs and a code of
 * k_m + e_m, with `layers` hidden layers of width h, so about d_m·h + h²·(layers−1) + h·code
 * weights each. Forward and backward work per row is proportional to the weight count, so this
 * times the rows is the modality's compute per epoch; the flow and adjacency are the same on
 * every trainer and do not enter.
 */
export function modalityParams(m: PlacedModality, model: ModelSize = DEFAULT_MODEL_SIZE): number {
  const h = model.hidden;
  const code = m.latents + m.exogenous;
  const one = m.dims * h + h * h * Math.max(0, model.layers - 1) + h * code;
  return 2 * one;
}

/** Relative compute of a modality over `rows` rows (see `modalityParams`). */
export function modalityCost(m: PlacedModality, rows: number, model: ModelSize = DEFAULT_MODEL_SIZE): number {
  return modalityParams(m, model) * rows;
}

/**
 * Assignments of shard 0 first, each shard's in trainer-id order; every shard has the same
 * modality partition on its own trainers, and every assignment lists its modalities in the
 * trial's modality order.
 */
export function placeModalities(req: PlacementRequest): Assignment[] {
  const mods = req.modalities;
  if (mods.length === 0) throw invalidArgument('no modalities to place', { field: 'spec.modalities' });
  const replicas = req.replicas === undefined || req.replicas === 0 ? 1 : req.replicas;
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw invalidArgument(`must be a non-negative integer, got ${req.replicas}`, { field: 'replicas' });
  }
  const askedTrainers = req.trainers ?? 0;
  if (!Number.isInteger(askedTrainers) || askedTrainers < 0) {
    throw invalidArgument(`must be a non-negative integer, got ${askedTrainers}`, { field: 'trainers' });
  }
  const idle = [...req.idleTrainers].sort(compareIds);
  const perShard =
    askedTrainers === 0
      ? Math.min(mods.length, Math.floor(idle.length / replicas))
      : Math.min(askedTrainers, mods.length);
  const needed = Math.max(1, perShard) * replicas;
  if (perShard === 0 || idle.length < needed) {
    const shape = replicas > 1 ? ` (${Math.max(1, perShard)} per replica × ${replicas} replicas)` : '';
    throw new CrlError(
      'FAILED_PRECONDITION',
      `the trial needs ${needed} idle trainer${needed === 1 ? '' : 's'}${shape}, ${idle.length} ${idle.length === 1 ? 'is' : 'are'} idle`,
    );
  }

  const rowsPerShard = Math.ceil(req.rows / replicas);
  const costs = mods.map((m) => modalityCost(m, rowsPerShard, req.model));
  const bins = lpt(costs, perShard);

  const out: Assignment[] = [];
  for (let shard = 0; shard < replicas; shard++) {
    const trainers = idle.slice(shard * perShard, (shard + 1) * perShard);
    trainers.forEach((trainerId, slot) => {
      out.push({
        trainerId,
        modalities: (bins[slot] as number[]).map((i) => (mods[i] as PlacedModality).name),
        shardIndex: shard,
        shardCount: replicas,
      });
    });
  }
  return out;
}

/**
 * Longest processing time first: items by cost descending (ties: earlier item first), each onto
 * the bin with the least load (ties: lower bin). Returns each bin's items in item order. With at
 * least as many items as bins, no bin stays empty: an empty bin has the least load.
 */
export function lpt(costs: readonly number[], bins: number): number[][] {
  const order = costs.map((_, i) => i).sort((a, b) => (costs[b] as number) - (costs[a] as number) || a - b);
  const load = new Array<number>(bins).fill(0);
  const items: number[][] = Array.from({ length: bins }, () => []);
  for (const i of order) {
    let best = 0;
    for (let b = 1; b < bins; b++) if ((load[b] as number) < (load[best] as number)) best = b;
    load[best] = (load[best] as number) + (costs[i] as number);
    (items[best] as number[]).push(i);
  }
  for (const list of items) list.sort((a, b) => a - b);
  return items;
}
