/**
 * The life of a trial: PENDING → RUNNING → EVALUATING → SUCCEEDED, or FAILED / CANCELLED with a
 * reason. The coordinator follows each trainer's JoinTrial stream; the trial trains while every
 * stream is open, and ends in failure as soon as one breaks, ends without a summary, or its
 * trainer stops heartbeating, because the group syncs every step and cannot go on without it.
 * When every trainer has sent its summary, the coordinator gathers the latents, scores them
 * against the truth through the evaluator, writes the run directory and frees the trainers.
 *
 * Nothing a trainer or the evaluator does may crash the coordinator: every failure becomes the
 * trial's FAILED state with a reason naming the component, and the other trainers are released.
 */
import { randomBytes } from 'node:crypto';
import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { CrlError, invalidArgument } from '../common/errors.js';
import type { Graph } from '../common/graph.js';
import { selectRows, type Table } from '../common/matrix.js';
import type { CoordinatorMetrics, TrialStateLabel } from '../common/metrics/index.js';
import { fromProtoGraph, toProtoGraph } from '../common/rpc/graph.js';
import { clientOptions } from '../common/rpc/server.js';
import { encodeTensor } from '../common/rpc/tensor.js';
import {
  EvaluatorServiceClient,
  type EvaluateLatentsRequest,
  type EvaluateLatentsResponse,
} from '../proto/gen/crl/v1/evaluator.js';
import {
  TrainerServiceClient,
  type GetLatentsResponse,
  type JoinTrialResponse,
  type TrainingSummary,
} from '../proto/gen/crl/v1/trainer.js';
import {
  TrialState,
  type Assignment,
  type Progress,
  type Trial,
  type TrialResult,
  type TrialSpec,
} from '../proto/gen/crl/v1/trial.js';
import { LatentAssembler, type AssembledCode } from './latents.js';
import { matchedLatents } from './matched-latents.js';
import { placeModalities } from './placement.js';
import type { TrainerEntry, TrainerRegistry } from './registry.js';
import { writeRunDirectory } from './run-dir.js';
import { resolveTrialSpec, type ResolvedTrialSpec } from './spec.js';
import { trialRows } from './trial-rows.js';
import { loadTrialTruth, type TrialTruth } from './truth.js';
import { isTerminal } from './trial-state.js';

export interface SubmitRequest {
  spec: TrialSpec | undefined;
  /** Trainers per replica (0: one per modality, as many as are idle). */
  trainers?: number;
  /** Data-parallel replicas (0 or 1: none). */
  replicas?: number;
}

export interface TrialEvent {
  /** A snapshot; the listener may keep it. */
  trial: Trial;
  /** What changed, for people. */
  message: string;
}

export type TrialListener = (event: TrialEvent) => void;

export interface TrialManagerOptions {
  registry: TrainerRegistry;
  /** Handed to every trainer of a group to sync over. */
  natsUrl: string;
  /** host:port of the EvaluatorService. */
  evaluatorAddress: string;
  metrics?: CoordinatorMetrics;
  maxMessageBytes?: number;
  /** Deadline of each LeaveTrial call. Default 10 s. */
  leaveTimeoutMs?: number;
  /** Deadline of EvaluateLatents (kernel ridge R² on many rows is slow). Default 30 min. */
  evaluateTimeoutMs?: number;
  now?: () => number;
}

export { isTerminal };

/** One trainer's part in a running trial. */
interface Member {
  readonly assignment: Assignment;
  readonly address: string;
  readonly client: TrainerServiceClient;
  join: ClientReadableStream<JoinTrialResponse> | undefined;
  latents: ClientReadableStream<GetLatentsResponse> | undefined;
  /** Last training step this trainer reported. */
  lastStep: number;
  summary: TrainingSummary | undefined;
  /** Declared dead by the registry: no LeaveTrial for it. */
  dead: boolean;
}

interface Run {
  readonly trial: Trial;
  readonly resolved: ResolvedTrialSpec;
  readonly members: Member[];
  /** Shard 0's owner of the first modality: its progress is the trial's. */
  readonly lead: Member;
  readonly listeners: Set<TrialListener>;
  startedMs: number;
  /** Set when the trial starts ending: its trainers are being released, the final state follows. */
  ending: boolean;
  /** Settles when the trial is terminal and its trainers are released. */
  readonly settled: Promise<void>;
  settle: () => void;
}

export class TrialManager {
  private readonly runs = new Map<string, Run>();
  private readonly registry: TrainerRegistry;
  private readonly opts: TrialManagerOptions;
  private readonly now: () => number;
  private evaluator: EvaluatorServiceClient | undefined;
  private readonly unsubscribe: () => void;

  constructor(opts: TrialManagerOptions) {
    this.opts = opts;
    this.registry = opts.registry;
    this.now = opts.now ?? (() => Date.now());
    this.unsubscribe = this.registry.onDeath((t, why) => this.onTrainerDeath(t, why));
    this.updateGauge();
  }

  /**
   * Validates and places the trial, claims its trainers and starts training. Throws (nothing is
   * created) for a bad spec or too few idle trainers; everything later is the trial's state.
   */
  submit(req: SubmitRequest): Trial {
    const resolved = resolveTrialSpec(req.spec);
    const spec = req.spec as TrialSpec;
    const assignments = placeModalities({
      modalities: resolved.modalities,
      rows: resolved.rows,
      idleTrainers: this.registry.idle().map((t) => t.id),
      trainers: req.trainers ?? 0,
      replicas: req.replicas ?? 0,
      model: resolved.model,
    });
    const id = `trial-${randomBytes(5).toString('hex')}`;
    const members = assignments.map((assignment): Member => {
      const entry = this.registry.get(assignment.trainerId) as TrainerEntry;
      return {
        assignment,
        address: entry.address,
        client: new TrainerServiceClient(
          entry.address,
          credentials.createInsecure(),
          clientOptions(this.opts.maxMessageBytes),
        ),
        join: undefined,
        latents: undefined,
        lastStep: 0,
        summary: undefined,
        dead: false,
      };
    });
    this.registry.claim(
      assignments.map((a) => a.trainerId),
      id,
    );
    const first = resolved.modalities[0]?.name;
    const lead =
      members.find((m) => m.assignment.shardIndex === 0 && m.assignment.modalities.includes(first ?? '')) ??
      (members[0] as Member);
    const now = this.now();
    let settle = (): void => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const run: Run = {
      trial: {
        id,
        spec: structuredClone(spec),
        state: TrialState.TRIAL_STATE_PENDING,
        assignments,
        progress: undefined,
        result: undefined,
        reason: '',
        createdMs: now,
        updatedMs: now,
      },
      resolved,
      members,
      lead,
      listeners: new Set(),
      startedMs: now,
      ending: false,
      settled,
      settle,
    };
    this.runs.set(id, run);
    this.transition(run, TrialState.TRIAL_STATE_PENDING, `placed on ${describeGroup(assignments)}`);
    this.start(run);
    return snapshot(run.trial);
  }

  get(id: string): Trial {
    return snapshot(this.run(id).trial);
  }

  list(): Trial[] {
    return [...this.runs.values()].map((r) => snapshot(r.trial));
  }

  /** Cancels a trial that has not ended; an ended one is returned as it is. */
  /** Cancels the trial; resolves once it is over (CANCELLED, or the state it reached first). */
  async cancel(id: string, reason = 'cancelled by request'): Promise<Trial> {
    const run = this.run(id);
    this.end(run, TrialState.TRIAL_STATE_CANCELLED, reason);
    await run.settled;
    return snapshot(run.trial);
  }

  /**
   * Calls `listener` with a snapshot now and on every change until the trial ends (the last call
   * carries the terminal state). Returns the unsubscribe function.
   */
  watch(id: string, listener: TrialListener): () => void {
    const run = this.run(id);
    listener({ trial: snapshot(run.trial), message: describeState(run.trial) });
    if (isTerminal(run.trial.state)) return () => {};
    run.listeners.add(listener);
    return () => run.listeners.delete(listener);
  }

  /** The trial once it has ended and its trainers are released. */
  async wait(id: string): Promise<Trial> {
    const run = this.run(id);
    await run.settled;
    return snapshot(run.trial);
  }

  /** Cancels every trial still going and waits until their trainers are released. */
  async close(): Promise<void> {
    this.unsubscribe();
    for (const run of this.runs.values()) {
      this.end(run, TrialState.TRIAL_STATE_CANCELLED, 'the coordinator is shutting down');
    }
    await Promise.all([...this.runs.values()].map((r) => r.settled));
    this.evaluator?.close();
    this.evaluator = undefined;
  }

  private run(id: string): Run {
    if (id === '') throw invalidArgument('a trial id is required', { field: 'trial_id' });
    const run = this.runs.get(id);
    if (run === undefined) throw new CrlError('NOT_FOUND', `no trial ${id}`, { field: 'trial_id' });
    return run;
  }

  private start(run: Run): void {
    const { trial } = run;
    for (const member of run.members) {
      let call: ClientReadableStream<JoinTrialResponse>;
      try {
        call = member.client.joinTrial({
          trialId: trial.id,
          spec: trial.spec,
          assignment: member.assignment,
          group: trial.assignments,
          natsUrl: this.opts.natsUrl,
        });
      } catch (err) {
        this.memberFailed(run, member, (err as Error).message);
        return;
      }
      member.join = call;
      call.on('data', (msg: JoinTrialResponse) => this.onJoinEvent(run, member, msg));
      call.on('error', (err: ServiceError) => {
        // A summary already in means training finished; what the stream does after is moot.
        if (member.summary !== undefined) return;
        // UNAVAILABLE: the process or its host is gone; do not offer it to the next trial.
        const gone = err.code === status.UNAVAILABLE;
        if (gone) member.dead = true;
        this.memberFailed(run, member, err.message);
        if (gone) this.registry.suspect(member.assignment.trainerId);
      });
      call.on('end', () => {
        if (member.summary === undefined)
          this.memberFailed(run, member, 'its stream ended without a summary');
      });
    }
    if (this.over(run)) return;
    run.startedMs = this.now();
    this.transition(run, TrialState.TRIAL_STATE_RUNNING, `joining ${run.members.length} trainer(s)`);
  }

  private onJoinEvent(run: Run, member: Member, msg: JoinTrialResponse): void {
    if (this.over(run) || msg.event === undefined) return;
    if (msg.event.$case === 'progress') {
      const p = msg.event.progress;
      member.lastStep = p.step;
      if (member === run.lead) {
        run.trial.progress = p;
        this.touch(run, `step ${p.step}/${p.totalSteps}`);
      }
      return;
    }
    const s = msg.event.summary;
    if (member.summary !== undefined) return;
    member.summary = s;
    member.lastStep = s.steps;
    const left = run.members.filter((m) => m.summary === undefined).length;
    if (left > 0) {
      this.touch(
        run,
        `trainer ${member.assignment.trainerId} finished after ${s.steps} steps; ${left} to go`,
      );
      return;
    }
    void this.evaluate(run);
  }

  private memberFailed(run: Run, member: Member, why: string): void {
    if (this.over(run)) return;
    const { trainerId } = member.assignment;
    this.end(
      run,
      TrialState.TRIAL_STATE_FAILED,
      `trainer ${trainerId} (${member.address}) left at step ${member.lastStep}: ${why}`,
    );
  }

  private onTrainerDeath(trainer: TrainerEntry, why: string): void {
    const run = trainer.trialId === undefined ? undefined : this.runs.get(trainer.trialId);
    if (run === undefined || this.over(run)) return;
    const member = run.members.find((m) => m.assignment.trainerId === trainer.id);
    if (member === undefined) return;
    member.dead = true;
    this.memberFailed(run, member, why);
  }

  /** EVALUATING: latents in, truth loaded, metrics out, run directory written; then SUCCEEDED. */
  private async evaluate(run: Run): Promise<void> {
    this.transition(run, TrialState.TRIAL_STATE_EVALUATING, 'training finished; collecting latents');
    let stage = 'collecting latents';
    try {
      const { latents, exogenous } = await this.collectLatents(run);
      if (this.over(run)) return;
      stage = 'reading who lacks which modality';
      const rows = await trialRows(run.resolved);
      stage = 'loading the ground truth';
      const truth = loadTrialTruth(run.resolved, run.trial.spec as TrialSpec);
      let scores: EvaluateLatentsResponse | undefined;
      if (truth !== undefined) {
        this.touch(run, 'scoring the latents against the truth');
        stage = `evaluator (${this.opts.evaluatorAddress})`;
        // Scored on the participants complete in every trained modality: the others' latents of a
        // missing modality are the encoder's guess from nothing.
        scores = await this.callEvaluator(
          run,
          selectRows(latents, rows.complete),
          exogenous.columns.length > 0 ? selectRows(exogenous, rows.complete) : undefined,
          { ...truth, latents: selectRows(truth.latents, rows.complete) },
        );
        if (this.over(run)) return;
      }
      stage = 'assembling the result';
      const result = this.resultOf(run, scores, truth);
      run.trial.result = result;
      const outDir = run.trial.spec?.outDir ?? '';
      if (outDir !== '') {
        stage = `writing the run directory ${outDir}`;
        const first = run.members[0]?.summary;
        const graph =
          first?.graph === undefined
            ? ({ nodes: run.resolved.latentNames, edges: [] } satisfies Graph)
            : fromProtoGraph(
                first.graph,
                `summary.graph from trainer ${run.members[0]?.assignment.trainerId}`,
              );
        result.runDir = await writeRunDirectory(outDir, {
          // Written only on the way to success: the file records the outcome, not this stage.
          trial: { ...run.trial, state: TrialState.TRIAL_STATE_SUCCEEDED },
          latents,
          exogenous,
          ...(rows.participants === undefined ? {} : { participants: rows.participants }),
          ...(rows.missing === undefined ? {} : { missing: rows.missing }),
          ...(rows.missingExogenous === undefined ? {} : { missingExogenous: rows.missingExogenous }),
          graph,
          curve: run.lead.summary?.curve ?? [],
        });
        if (this.over(run)) return;
      }
      this.end(run, TrialState.TRIAL_STATE_SUCCEEDED, '');
    } catch (err) {
      this.end(run, TrialState.TRIAL_STATE_FAILED, `${stage}: ${errorText(err)}`);
    }
  }

  /** The latent matrix from every trainer's GetLatents stream (see LatentAssembler). */
  private async collectLatents(run: Run): Promise<AssembledCode> {
    const assembler = new LatentAssembler(run.resolved);
    await Promise.all(
      run.members.map(
        (member) =>
          new Promise<void>((resolve, reject) => {
            const who = `trainer ${member.assignment.trainerId} (${member.address})`;
            const call = member.client.getLatents({ trialId: run.trial.id });
            member.latents = call;
            let failed = false;
            call.on('data', (chunk: GetLatentsResponse) => {
              if (failed) return;
              try {
                assembler.add(chunk, who, member.assignment.modalities);
              } catch (err) {
                failed = true;
                call.cancel();
                reject(err);
              }
            });
            call.on('error', (err: ServiceError) => {
              if (failed) return;
              failed = true;
              reject(new CrlError('ABORTED', `${who} could not send its latents: ${err.message}`));
            });
            call.on('end', () => {
              if (!failed) resolve();
            });
          }),
      ),
    );
    return assembler.finish((name) =>
      run.members.filter((m) => m.assignment.modalities.includes(name)).map((m) => m.assignment.trainerId),
    );
  }

  private callEvaluator(
    run: Run,
    latents: Table,
    exogenous: Table | undefined,
    truth: TrialTruth,
  ): Promise<EvaluateLatentsResponse> {
    this.evaluator ??= new EvaluatorServiceClient(
      this.opts.evaluatorAddress,
      credentials.createInsecure(),
      clientOptions(this.opts.maxMessageBytes),
    );
    const n = latents.nRows;
    const names = run.resolved.latentNames;
    const learned = run.members[0]?.summary?.graph;
    const req: EvaluateLatentsRequest = {
      estimated: encodeTensor(Float32Array.from(latents.data), [n, names.length]),
      truth: encodeTensor(Float32Array.from(truth.latents.data), [n, truth.latents.columns.length]),
      estimatedNames: names,
      truthNames: [...truth.latents.columns],
      learned,
      trueGraph: learned === undefined ? undefined : toProtoGraph(truth.graph),
      r2Protocol: '',
      skipR2: false,
      seed: run.trial.spec?.seed ?? 0,
      // The exogenous slots make the aligned MCC rotate each modality's whole code.
      exogenous:
        exogenous === undefined
          ? undefined
          : encodeTensor(Float32Array.from(exogenous.data), [n, exogenous.columns.length]),
      exogenousNames: exogenous === undefined ? [] : [...exogenous.columns],
    };
    const deadline = new Date(Date.now() + (this.opts.evaluateTimeoutMs ?? 30 * 60_000));
    const client = this.evaluator;
    return new Promise((resolve, reject) => {
      client.evaluateLatents(req, new Metadata(), { deadline }, (err, res) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  private resultOf(
    run: Run,
    scores: EvaluateLatentsResponse | undefined,
    truth: TrialTruth | undefined,
  ): TrialResult {
    const summaries = run.members.map((m) => m.summary as TrainingSummary);
    const first = summaries[0] as TrainingSummary;
    const backends = [...new Set(summaries.map((s) => s.backend).filter((b) => b !== ''))];
    const syncWaitFraction: Record<string, number> = {};
    run.members.forEach((m, i) => {
      const s = summaries[i] as TrainingSummary;
      syncWaitFraction[m.assignment.trainerId] = s.wallS > 0 ? s.syncWaitS / s.wallS : 0;
    });
    const final = run.lead.summary?.curve.at(-1) ?? run.trial.progress;
    return {
      mcc: scores?.mcc,
      mccPerModality: scores === undefined ? {} : { ...scores.mccPerModality },
      r2: scores?.r2,
      shd: scores?.shd,
      shdCdt: scores?.shdCdt,
      graph: first.graph,
      steps: first.steps,
      stoppedEarly: first.stoppedEarly,
      // The group runs in lockstep: the trial took as long as its slowest member.
      wallS: Math.max(...summaries.map((s) => s.wallS)),
      backend: backends.join(','),
      runDir: '',
      final,
      syncWaitFraction,
      truthConditionsMet: truth?.conditionsMet,
      mccPerLatent:
        scores === undefined || truth === undefined
          ? {}
          : matchedLatents(scores, run.resolved.latentNames, truth.latents.columns),
      r2PerLatent: scores === undefined ? {} : { ...scores.r2PerLatent },
      mccAligned: scores?.mccAligned,
      mccAlignedPerModality: scores === undefined ? {} : { ...scores.mccAlignedPerModality },
    };
  }

  /**
   * Moves the trial to a terminal state once (later calls are no-ops), stops every call in flight
   * and releases the trainers: LeaveTrial to each live one, then idle in the registry.
   */
  private end(run: Run, state: TrialState, reason: string): void {
    if (this.over(run)) return;
    run.ending = true;
    for (const m of run.members) {
      m.join?.cancel();
      m.latents?.cancel();
    }
    // The final state is announced only once the trainers are free again, so whoever sees the
    // trial end can submit the next one onto the same trainers.
    void this.release(run).finally(() => {
      run.trial.reason = reason;
      this.transition(run, state, describeEnd(state, reason));
      this.opts.metrics?.trialDuration.observe((this.now() - run.startedMs) / 1000);
      run.listeners.clear();
      run.settle();
    });
  }

  /** Ended, or ending (trainers being released). */
  private over(run: Run): boolean {
    return run.ending || isTerminal(run.trial.state);
  }

  private async release(run: Run): Promise<void> {
    const timeout = this.opts.leaveTimeoutMs ?? 10_000;
    await Promise.all(
      run.members.map(async (m) => {
        if (!m.dead) {
          const deadline = new Date(Date.now() + timeout);
          await new Promise<void>((resolve) =>
            // A trainer that cannot be told to leave is past helping; its heartbeat decides its fate.
            m.client.leaveTrial({ trialId: run.trial.id }, new Metadata(), { deadline }, () => resolve()),
          );
        }
        m.client.close();
      }),
    );
    this.registry.release(
      run.members.map((m) => m.assignment.trainerId),
      run.trial.id,
    );
  }

  private transition(run: Run, state: TrialState, message: string): void {
    run.trial.state = state;
    this.updateGauge();
    this.touch(run, message);
  }

  private touch(run: Run, message: string): void {
    run.trial.updatedMs = this.now();
    const event = { trial: snapshot(run.trial), message };
    for (const listener of [...run.listeners]) {
      try {
        listener(event);
      } catch (err) {
        // A watcher's failure (a client gone mid-write) is the watcher's, never the trial's.
        console.error(`trial ${run.trial.id}: watcher failed: ${errorText(err)}`);
        run.listeners.delete(listener);
      }
    }
  }

  private updateGauge(): void {
    const gauge = this.opts.metrics?.trials;
    if (gauge === undefined) return;
    const counts = new Map<TrialStateLabel, number>(STATE_LABELS.map(([, label]) => [label, 0]));
    for (const r of this.runs.values()) {
      const label = labelOf(r.trial.state);
      if (label !== undefined) counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    for (const [label, count] of counts) gauge.set({ state: label }, count);
  }
}

const STATE_LABELS: readonly (readonly [TrialState, TrialStateLabel])[] = [
  [TrialState.TRIAL_STATE_PENDING, 'pending'],
  [TrialState.TRIAL_STATE_RUNNING, 'running'],
  [TrialState.TRIAL_STATE_EVALUATING, 'evaluating'],
  [TrialState.TRIAL_STATE_SUCCEEDED, 'succeeded'],
  [TrialState.TRIAL_STATE_FAILED, 'failed'],
  [TrialState.TRIAL_STATE_CANCELLED, 'cancelled'],
];

function labelOf(state: TrialState): TrialStateLabel | undefined {
  return STATE_LABELS.find(([s]) => s === state)?.[1];
}

function snapshot(trial: Trial): Trial {
  return structuredClone(trial);
}

function describeGroup(assignments: readonly Assignment[]): string {
  return assignments
    .map((a) => {
      const shard = a.shardCount > 1 ? ` shard ${a.shardIndex + 1}/${a.shardCount}` : '';
      return `${a.trainerId} (${a.modalities.join(', ')}${shard})`;
    })
    .join(', ');
}

function describeState(trial: Trial): string {
  const label = labelOf(trial.state) ?? 'unknown';
  if (trial.reason !== '') return `${label}: ${trial.reason}`;
  const p: Progress | undefined = trial.progress;
  return p === undefined ? label : `${label}, step ${p.step}/${p.totalSteps}`;
}

function describeEnd(state: TrialState, reason: string): string {
  const label = labelOf(state) ?? 'ended';
  return reason === '' ? label : `${label}: ${reason}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
