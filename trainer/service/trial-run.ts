/**
 * One trial on this trainer: joins its group, loads only its own modalities, trains in lockstep
 * with its peers and keeps the trained model part until the coordinator has collected the latents
 * and says leave.
 */
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { CrlError, invalidArgument } from '../../common/errors.js';
import { latentName, type Graph } from '../../common/graph.js';
import type { TrainerMetrics } from '../../common/metrics/index.js';
import { toProtoGraph } from '../../common/rpc/graph.js';
import { progressOf } from '../../common/rpc/progress.js';
import { encodeTensor } from '../../common/rpc/tensor.js';
import type {
  GetLatentsResponse,
  JoinTrialRequest,
  TrainingSummary,
} from '../../proto/gen/crl/v1/trainer.js';
import type { Progress, TrialSpec } from '../../proto/gen/crl/v1/trial.js';
import { loadTrainingInput, type TrainingInput } from '../data/input.js';
import {
  createGroupMember,
  groupTopology,
  natsTransport,
  type GroupMemberHandle,
  type SyncObserver,
} from '../distributed/index.js';
import { readCheckpoint, restoreCheckpoint, serializeCheckpoint } from '../training/index.js';
import { latestCompleteStep, partName, writePart } from './part-checkpoints.js';
import { trialSettings } from './settings.js';

/** Rows per GetLatents message (bounded message size whatever the cohort). */
const LATENT_ROWS_PER_MESSAGE = 16_384;

export interface TrialRunDeps {
  self: string;
  backend: string;
  nats(url: string): Promise<NatsConnection>;
  metrics?: TrainerMetrics;
  /** How long a sync round waits for a peer (default 120 s; the coordinator also watches liveness). */
  syncTimeoutMs?: number;
}

export class TrialRun {
  private stopped: Error | undefined;
  private done = false;
  /** Where this part writes its checkpoint at every evaluation (spec.checkpoint_dir). */
  checkpoints: { dir: string; part: string } | undefined;
  /** This part's name in checkpoint directories (its modalities and shard). */
  part = '';
  /** The step a retry resumed from. */
  resumedFrom: number | undefined;

  /** Training has finished: the part only waits for the coordinator to collect it. */
  get finished(): boolean {
    return this.done;
  }

  private constructor(
    readonly trialId: string,
    private readonly member: GroupMemberHandle,
    /** Names of the trial's latents per trained modality index, as the coordinator names them. */
    private readonly latentNames: string[],
    private readonly ownNames: Map<number, string>,
    private readonly totalSteps: number,
    /** Row shards of the group: this trainer encodes about batch / shards rows per step. */
    private readonly shards: number,
    private readonly deps: TrialRunDeps,
  ) {}

  static async join(req: JoinTrialRequest, deps: TrialRunDeps): Promise<TrialRun> {
    const { spec, assignment } = req;
    if (req.trialId === '') throw invalidArgument('is required', { field: 'trial_id' });
    if (spec === undefined) throw invalidArgument('is required', { field: 'spec' });
    if (assignment === undefined) throw invalidArgument('is required', { field: 'assignment' });
    if (assignment.trainerId !== deps.self) {
      throw invalidArgument(`is ${assignment.trainerId}, but this is trainer ${deps.self}`, {
        field: 'assignment.trainer_id',
      });
    }
    if (assignment.modalities.length === 0)
      throw invalidArgument('names no modality', { field: 'assignment.modalities' });
    if (req.group.length === 0) throw invalidArgument('is empty', { field: 'group' });
    if (req.natsUrl === '') throw invalidArgument('is required', { field: 'nats_url' });

    const source = {
      seed: spec.seed,
      ...(spec.preset !== '' ? { preset: spec.preset } : {}),
      ...(spec.dataDir !== '' ? { data: spec.dataDir } : {}),
      ...(spec.rows > 0 ? { n: spec.rows } : {}),
    };
    const input = await loadTrainingInput(source, { read: assignment.modalities, truth: false });
    try {
      return await TrialRun.start(req, deps, input);
    } catch (err) {
      // The engine closes the blocks once it exists; before that, a refused request must not
      // leave the modality's files open.
      input.blocks.forEach((b) => b.close());
      throw err;
    }
  }

  private static async start(
    req: JoinTrialRequest,
    deps: TrialRunDeps,
    input: TrainingInput,
  ): Promise<TrialRun> {
    const spec = req.spec as TrialSpec;
    const trained = spec.modalities.length > 0 ? spec.modalities : input.specs.map((s) => s.name);
    const specs = trained.map((name, i) => {
      const s = input.specs.find((x) => x.name === name);
      if (s === undefined) {
        throw invalidArgument(
          `unknown modality "${name}"; the data have ${input.specs.map((x) => x.name).join(', ')}`,
          {
            field: `spec.modalities[${i}]`,
          },
        );
      }
      return s;
    });
    const indexOf = (name: string, field: string): number => {
      const k = trained.indexOf(name);
      if (k < 0)
        throw invalidArgument(`modality "${name}" is not trained in this trial (${trained.join(', ')})`, {
          field,
        });
      return k;
    };
    const topology = groupTopology(
      req.group.map((a, g) => ({
        id: a.trainerId,
        modalities: a.modalities.map((name, j) => indexOf(name, `group[${g}].modalities[${j}]`)),
        shard: a.shardIndex,
      })),
      trained.length,
    );
    const me = topology.members.find((m) => m.id === deps.self);
    if (me === undefined) throw invalidArgument(`does not list trainer ${deps.self}`, { field: 'group' });
    const { config, options } = trialSettings(spec, specs);
    // Blocks come in assignment order; the group wants them in trial order, and the presence of
    // every trained modality (the losses weigh rows by all of them).
    const blocks = me.modalities.map((k) => {
      const b = input.blocks.find((x) => x.name === trained[k]);
      if (b === undefined)
        throw invalidArgument(`modality ${trained[k]} is not assigned here`, { field: 'assignment' });
      return b;
    });
    const presence = trained.map((name) => input.presence[input.specs.findIndex((x) => x.name === name)]);
    const latentNames = specs.flatMap((s) => {
      const pos = input.specs.findIndex((x) => x.name === s.name);
      return Array.from({ length: s.latents }, (_, i) => latentName(pos + 1, i + 1));
    });
    const nc = await deps.nats(req.natsUrl);
    const member = createGroupMember({
      trialId: req.trialId,
      self: deps.self,
      config,
      options,
      topology,
      transport: natsTransport(nc),
      blocks,
      n: input.n,
      presence,
      observer: observerFor(deps.metrics),
      ...(deps.syncTimeoutMs === undefined ? {} : { timeoutMs: deps.syncTimeoutMs }),
    });
    const ownNames = new Map(me.modalities.map((k) => [k, trained[k] as string]));
    const part = partName([...ownNames.values()], me.shard);
    const checkpoints = spec.checkpointDir === '' ? undefined : { dir: spec.checkpointDir, part };
    let resumedFrom: number | undefined;
    try {
      if (checkpoints !== undefined && spec.resume) {
        const parts = topology.members.map((m) =>
          partName(
            m.modalities.map((k) => trained[k] as string),
            m.shard,
          ),
        );
        resumedFrom = latestCompleteStep(checkpoints.dir, parts);
        if (resumedFrom !== undefined) {
          const from = join(checkpoints.dir, `step-${resumedFrom}`, checkpoints.part);
          restoreCheckpoint(member.trainer, readCheckpoint(from), `checkpoint ${from}`);
        }
      }
    } catch (err) {
      member.dispose();
      throw err;
    }
    const run = new TrialRun(
      req.trialId,
      member,
      latentNames,
      ownNames,
      options.steps,
      topology.shards,
      deps,
    );
    run.part = part;
    run.checkpoints = checkpoints;
    run.resumedFrom = resumedFrom;
    return run;
  }

  /** Trains to the end; `onProgress` gets every evaluation. */
  async train(onProgress: (p: Progress) => void): Promise<TrainingSummary> {
    const { trainer, channel, engine } = this.member;
    const started = performance.now();
    const rowsPerStep = Math.ceil(trainer.options.batchSize / this.shards);
    this.deps.metrics?.activeTrials.inc();
    try {
      await channel.ready();
      const summary = await trainer.run({
        onEval: (row) => {
          const c = this.checkpoints;
          if (c !== undefined) writePart(c.dir, row.step, c.part, serializeCheckpoint(trainer));
          onProgress(progressOf(row, this.totalSteps));
        },
        onStep: (seconds) => {
          const m = this.deps.metrics;
          if (m === undefined) return;
          m.steps.inc({ trial: this.trialId });
          m.stepDuration.observe(seconds);
          for (const name of this.ownNames.values())
            m.samples.inc({ trial: this.trialId, modality: name }, rowsPerStep);
        },
        shouldStop: () => this.stopped !== undefined,
      });
      if (this.stopped !== undefined) throw this.stopped;
      this.done = true;
      const graph = this.renamed(engine.model.graph());
      const d = engine.model.layout.d;
      return {
        steps: summary.steps,
        stoppedEarly: summary.stoppedEarly,
        wallS: (performance.now() - started) / 1000,
        stepsPerS: summary.stepsPerSecond,
        backend: this.deps.backend,
        graph: toProtoGraph(graph),
        edgeProbabilities: encodeTensor(engine.model.adjacency.probabilityValues(), [d, d]),
        syncWaitS: channel.waitSeconds,
        curve: summary.curve.map((r) => progressOf(r, this.totalSteps)),
      };
    } finally {
      this.deps.metrics?.activeTrials.dec();
    }
  }

  /** This trainer's latents, modality by modality, in bounded chunks. */
  *latents(): Generator<GetLatentsResponse> {
    if (!this.done)
      throw new CrlError('FAILED_PRECONDITION', `trial ${this.trialId} has not finished training here`);
    for (const [k, name] of this.ownNames) {
      const { rowOffset, rows, values, exogenous } = this.member.engine.latents(k);
      const width = rows === 0 ? 0 : values.length / rows;
      const e = rows === 0 ? 0 : exogenous.length / rows;
      for (let at = 0; at < rows; at += LATENT_ROWS_PER_MESSAGE) {
        const size = Math.min(LATENT_ROWS_PER_MESSAGE, rows - at);
        yield {
          modality: name,
          rowOffset: rowOffset + at,
          z: encodeTensor(values.subarray(at * width, (at + size) * width), [size, width]),
          exogenous:
            e === 0 ? undefined : encodeTensor(exogenous.subarray(at * e, (at + size) * e), [size, e]),
        };
      }
    }
  }

  /** Writes this trainer's checkpoint (its model part, moments and loop state) under `dir`. */
  checkpoint(dir: string): { path: string; step: number } {
    const step = this.member.trainer.state.step;
    writePart(dir, step, this.part, serializeCheckpoint(this.member.trainer));
    return { path: join(dir, `step-${step}`, this.part), step };
  }

  /** Stops training at the next step boundary and fails any pending sync. */
  stop(reason: string): void {
    if (this.stopped !== undefined) return;
    this.stopped = new CrlError('ABORTED', reason);
    this.member.channel.abort(this.stopped);
  }

  dispose(): void {
    this.stop('the trainer left the trial');
    this.member.dispose();
  }

  /** The model names latents by position in the trial; the coordinator by position in the dataset. */
  private renamed(g: Graph): Graph {
    return { nodes: this.latentNames, edges: g.edges };
  }
}

function observerFor(m: TrainerMetrics | undefined): SyncObserver {
  if (m === undefined) return {};
  return {
    wait: (round, seconds) =>
      m.syncWait.observe({ round: round.startsWith('grads.') ? 'grads' : round }, seconds),
    sent: (bytes) => m.natsSentBytes.inc(bytes),
    received: (bytes) => m.natsReceivedBytes.inc(bytes),
    rejected: (reason) => m.rejectedMessages.inc({ reason }),
  };
}
