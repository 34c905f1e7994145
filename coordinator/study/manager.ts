/**
 * Runs studies on the trainer pool: proposes trials with the sampler, packs up to
 * `max_concurrent` of them onto idle trainers, feeds each evaluation to the pruner (cancelling the
 * trial when it says so), retries failed trials up to the spec's count with the retry kept in the
 * trial's history, and records final objective values. A study ends COMPLETED when its budget is
 * spent (trials or time) and nothing runs; the Pareto front (or the best trial) is kept current.
 *
 * With a store (JetStream KV in a cluster), every change is saved, and `resume()` takes the saved
 * studies back after a restart: finished ones as they were, running ones where they stood. A trial
 * that was running when the coordinator died is run again as a new attempt of the same trial
 * number (listed in its history), so no trial is lost and no number is proposed twice; the sampler
 * continues its sequence because its proposals depend only on the seed and the history.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CrlError } from '../../common/errors.js';
import type { CoordinatorMetrics } from '../../common/metrics/index.js';
import type { Study, StudyTrial } from '../../proto/gen/crl/v1/study.js';
import { StudyState, StudyTrialOutcome } from '../../proto/gen/crl/v1/study.js';
import { TrialState, type Trial } from '../../proto/gen/crl/v1/trial.js';
import type { TrainerRegistry } from '../registry.js';
import { isTerminal } from '../trial-state.js';
import type { TrialManager } from '../trials.js';
import type { TrialRecord } from './history.js';
import { intermediateValues, objectiveValues } from './objectives.js';
import { best, paretoFront } from './pareto.js';
import { createPruner, type Pruner } from './pruner.js';
import { createSampler, type Sampler } from './sampler.js';
import { parseStudySpec, toTrialSpec, type StudySpec } from './spec.js';
import type { PersistedStudy, StudyStore } from './store.js';

export interface StudyEvent {
  study: Study;
  message: string;
}

export interface StudyManagerOptions {
  trials: TrialManager;
  registry: TrainerRegistry;
  /** How often waiting studies look for idle trainers (they also look whenever a trial ends). */
  pumpIntervalMs?: number;
  now?: () => number;
  store?: StudyStore;
  /**
   * A directory every trainer can reach: each study trial checkpoints under
   * `<root>/<study>/trial-<n>/` at every evaluation, and a retry resumes from there.
   */
  checkpointRoot?: string;
  /**
   * Why trainers may not be coming (a launcher's pods unschedulable, crash-looping, refused): shown
   * as the reason of a study that waits for trainers, so it does not hang silently.
   */
  trainerProblems?: () => string[];
  /** Best value per objective, exported for dashboards. */
  metrics?: Pick<CoordinatorMetrics, 'studyBest'>;
}

interface StudyRun {
  id: string;
  spec: StudySpec;
  specJson: string;
  state: StudyState;
  reason: string;
  records: TrialRecord[];
  /** Per trial number: the cluster trials that ran it (first attempt, then retries). */
  attempts: string[][];
  reasons: string[];
  /** Trial numbers being pruned (their cancellation is in flight). */
  pruning: Map<number, number>;
  /** Trial numbers running, or failed and waiting in `retryQueue` for their next attempt. */
  running: Set<number>;
  retryQueue: number[];
  unwatch: Map<number, () => void>;
  sampler: Sampler;
  pruner: Pruner;
  startedMs: number;
  createdMs: number;
  updatedMs: number;
  listeners: Set<(e: StudyEvent) => void>;
  settle: () => void;
  settled: Promise<void>;
  /** A save is in flight / another is needed after it. */
  saving: boolean;
  dirty: boolean;
}

export class StudyManager {
  private readonly runs = new Map<string, StudyRun>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly opts: StudyManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => {
      for (const run of this.runs.values()) this.pump(run);
    }, opts.pumpIntervalMs ?? 500);
    this.timer.unref();
  }

  /** Validates the spec (JSON or YAML text) and starts the study. */
  submit(specText: string): Study {
    const spec = parseStudySpec(specText, 'spec_json');
    const now = this.now();
    const run = this.newRun(
      {
        format: 'crl-study',
        version: 1,
        id: `study-${randomBytes(5).toString('hex')}`,
        specText,
        state: StudyState.STUDY_STATE_RUNNING,
        reason: '',
        createdMs: now,
        startedMs: now,
        records: [],
        attempts: [],
        reasons: [],
      },
      spec,
    );
    this.runs.set(run.id, run);
    this.persist(run);
    this.pump(run);
    return this.snapshot(run);
  }

  /**
   * Takes back the studies in the store (after a coordinator restart). Running ones continue:
   * their interrupted trials are queued to run again, then new trials follow.
   */
  async resume(): Promise<number> {
    const store = this.opts.store;
    if (store === undefined) return 0;
    let resumed = 0;
    for (const saved of await store.loadAll()) {
      if (this.runs.has(saved.id)) continue;
      let spec: StudySpec;
      try {
        spec = parseStudySpec(saved.specText, `study ${saved.id}`);
      } catch (err) {
        console.error(`study ${saved.id}: cannot resume: ${(err as Error).message}`);
        continue;
      }
      const run = this.newRun(saved, spec);
      this.runs.set(run.id, run);
      if (run.state !== StudyState.STUDY_STATE_RUNNING) {
        run.settle();
        continue;
      }
      resumed += 1;
      for (const record of run.records) {
        if (record.state !== 'running') continue;
        const n = record.number;
        const last = run.attempts[n]?.at(-1);
        run.reasons[n] =
          `attempt ${run.attempts[n]?.length ?? 0}${last === undefined ? '' : ` (${last})`} interrupted by a coordinator restart; running it again`;
        record.intermediate = [];
        run.running.add(n);
        run.retryQueue.push(n);
      }
      this.notify(
        run,
        `study resumed after a coordinator restart (${run.retryQueue.length} trial(s) to run again)`,
      );
      this.pump(run);
    }
    return resumed;
  }

  get(id: string): Study {
    return this.snapshot(this.run(id));
  }

  list(): Study[] {
    return [...this.runs.values()].map((r) => this.snapshot(r));
  }

  /** Snapshot now and on every change until the study ends. */
  watch(id: string, listener: (e: StudyEvent) => void): () => void {
    const run = this.run(id);
    listener({ study: this.snapshot(run), message: 'snapshot' });
    if (run.state !== StudyState.STUDY_STATE_RUNNING) return () => {};
    run.listeners.add(listener);
    return () => run.listeners.delete(listener);
  }

  async wait(id: string): Promise<Study> {
    const run = this.run(id);
    await run.settled;
    return this.snapshot(run);
  }

  /** Cancels the study's running trials; resolves when it has ended. */
  async cancel(id: string, reason = 'cancelled by request'): Promise<Study> {
    const run = this.run(id);
    if (run.state === StudyState.STUDY_STATE_RUNNING) {
      run.state = StudyState.STUDY_STATE_CANCELLED;
      run.reason = reason;
      for (const n of run.retryQueue) {
        (run.records[n] as TrialRecord).state = 'failed';
        run.running.delete(n);
      }
      run.retryQueue.length = 0;
      await Promise.all(
        [...run.running].map((n) => {
          const trialId = run.attempts[n]?.at(-1) as string;
          return this.opts.trials.cancel(trialId, `study ${run.id} cancelled`).catch(() => undefined);
        }),
      );
      this.finishIfIdle(run, reason);
    }
    await run.settled;
    return this.snapshot(run);
  }

  /**
   * Stops proposing. With a store, running studies stay RUNNING there (a restarted coordinator
   * resumes them; the trials the trial manager is about to cancel are run again); without one
   * they are cancelled.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.opts.store !== undefined) {
      this.closing = true;
      await this.flush();
      return;
    }
    await Promise.all(
      [...this.runs.values()]
        .filter((r) => r.state === StudyState.STUDY_STATE_RUNNING)
        .map((r) => this.cancel(r.id, 'the coordinator stopped')),
    );
  }

  private closing = false;

  /**
   * Trainers the running studies could use right now beyond the ones they hold: for each, the
   * trials it may still start (concurrency and budget allowing) times its trainers per trial.
   */
  pendingTrainerDemand(): number {
    let demand = 0;
    for (const run of this.runs.values()) {
      if (run.state !== StudyState.STUDY_STATE_RUNNING) continue;
      const capacity = Math.min(run.spec.budget.maxTrials, run.sampler.capacity(run.spec.space));
      const startable = Math.min(
        run.spec.budget.maxConcurrent - run.running.size + run.retryQueue.length,
        capacity - run.records.length + run.retryQueue.length,
      );
      demand += Math.max(0, startable) * run.spec.trainersPerTrial;
    }
    return demand;
  }

  /** The in-memory study for a saved (or freshly made) record. */
  private newRun(saved: PersistedStudy, spec: StudySpec): StudyRun {
    let settle = (): void => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    return {
      id: saved.id,
      spec,
      specJson: saved.specText,
      state: saved.state,
      reason: saved.reason,
      records: saved.records,
      attempts: saved.attempts,
      reasons: saved.reasons,
      pruning: new Map(),
      running: new Set(),
      retryQueue: [],
      unwatch: new Map(),
      sampler: createSampler(spec.sampler),
      pruner: createPruner(spec.pruner),
      startedMs: saved.startedMs,
      createdMs: saved.createdMs,
      updatedMs: this.now(),
      listeners: new Set(),
      settle,
      settled,
      saving: false,
      dirty: false,
    };
  }

  private run(id: string): StudyRun {
    const run = this.runs.get(id);
    if (run === undefined) throw new CrlError('NOT_FOUND', `no study ${id}`, { field: 'study_id' });
    return run;
  }

  /** Starts trials while the budget, the concurrency limit and the idle trainers allow. */
  private pump(run: StudyRun): void {
    if (run.state !== StudyState.STUDY_STATE_RUNNING || this.closing) return;
    const { budget, trainersPerTrial } = run.spec;
    const idle = (): boolean => this.opts.registry.idle().length >= trainersPerTrial;
    // Retries first: they were promised a run before any new proposal.
    while (run.retryQueue.length > 0 && idle()) {
      const number = run.retryQueue[0] as number;
      if (this.launch(run, number) === 'busy') break;
      run.retryQueue.shift();
    }
    const timeUp = budget.timeLimitS !== undefined && this.now() - run.startedMs > budget.timeLimitS * 1000;
    const capacity = Math.min(budget.maxTrials, run.sampler.capacity(run.spec.space));
    while (
      !timeUp &&
      run.retryQueue.length === 0 &&
      run.records.length < capacity &&
      run.running.size < budget.maxConcurrent &&
      idle()
    ) {
      const number = run.records.length;
      const params = run.sampler.sample(
        {
          space: run.spec.space,
          directions: run.spec.objectives.map((o) => o.direction),
          intermediateDirections: run.spec.intermediate.map((o) => o.direction),
          history: run.records,
        },
        number,
      );
      run.records.push({ number, params, state: 'running', intermediate: [] });
      run.attempts.push([]);
      run.reasons.push('');
      if (this.launch(run, number) === 'busy') {
        // Another study took the trainers between the count and the placement: propose it again later.
        run.records.pop();
        run.attempts.pop();
        run.reasons.pop();
        break;
      }
    }
    if (run.running.size === 0 && (timeUp || run.records.length >= capacity)) {
      this.finishIfIdle(run, timeUp ? 'time limit reached' : 'budget spent');
    }
  }

  /** Submits trial `number` (again, for a retry). */
  private launch(run: StudyRun, number: number): 'started' | 'busy' | 'failed' {
    const record = run.records[number] as TrialRecord;
    let trial: Trial;
    try {
      const root = this.opts.checkpointRoot;
      const checkpoint =
        root === undefined
          ? undefined
          : { dir: join(root, run.id, `trial-${number}`), resume: (run.attempts[number]?.length ?? 0) > 0 };
      trial = this.opts.trials.submit({
        spec: toTrialSpec(run.spec, record.params, '', checkpoint),
        trainers: run.spec.trainersPerTrial,
        replicas: 1,
      });
    } catch (err) {
      if (err instanceof CrlError && err.code === 'FAILED_PRECONDITION') return 'busy';
      record.state = 'failed';
      run.running.delete(number);
      run.reasons[number] = `could not start: ${(err as Error).message}`;
      this.notify(run, `trial ${number} could not start`);
      return 'failed';
    }
    run.attempts[number]?.push(trial.id);
    run.running.add(number);
    record.intermediate = [];
    run.unwatch.set(
      number,
      this.opts.trials.watch(trial.id, (e) => this.onTrial(run, number, e.trial)),
    );
    this.notify(
      run,
      `trial ${number} ${(run.attempts[number]?.length ?? 0) > 1 ? 'retried' : 'started'} (${trial.id})`,
    );
    return 'started';
  }

  private onTrial(run: StudyRun, number: number, trial: Trial): void {
    if (this.closing) return;
    const record = run.records[number] as TrialRecord;
    if (trial.id !== run.attempts[number]?.at(-1)) return;
    const p = trial.progress;
    const last = record.intermediate.at(-1)?.step ?? 0;
    if (p !== undefined && p.step > last && !isTerminal(trial.state) && !run.pruning.has(number)) {
      record.intermediate.push({
        step: p.step,
        values: intermediateValues(
          run.spec.intermediate.map((o) => o.metric),
          p,
        ),
      });
      const ctx = { directions: run.spec.intermediate.map((o) => o.direction), history: run.records };
      // The last evaluation has nothing left to save: pruning it would only race the trial's success.
      const final = p.totalSteps > 0 && p.step >= p.totalSteps;
      if (
        run.state === StudyState.STUDY_STATE_RUNNING &&
        !final &&
        run.pruner.shouldPrune(record, p.step, ctx)
      ) {
        run.pruning.set(number, p.step);
        void this.opts.trials
          .cancel(trial.id, `pruned by ${run.pruner.name} at step ${p.step}`)
          .catch(() => undefined);
      }
      this.notify(run, `trial ${number} at step ${p.step}`);
    }
    if (!isTerminal(trial.state)) return;
    run.unwatch.get(number)?.();
    const prunedAt = run.pruning.get(number);
    // A trial that succeeded before the cancellation reached it is complete, not pruned.
    if (prunedAt !== undefined && trial.state !== TrialState.TRIAL_STATE_SUCCEEDED) {
      record.state = 'pruned';
      run.reasons[number] = `pruned by ${run.pruner.name} at step ${prunedAt}`;
    } else if (trial.state === TrialState.TRIAL_STATE_SUCCEEDED && trial.result !== undefined) {
      const got = objectiveValues(
        run.spec.objectives.map((o) => o.metric),
        trial.result,
      );
      if ('values' in got) {
        record.state = 'complete';
        record.values = got.values;
      } else {
        record.state = 'failed';
        run.reasons[number] = `the trial has no ${got.missing}`;
      }
    } else if (
      trial.state === TrialState.TRIAL_STATE_FAILED &&
      run.state === StudyState.STUDY_STATE_RUNNING &&
      (run.attempts[number]?.length ?? 0) <= run.spec.retries
    ) {
      // Stays in `running` (it counts against max_concurrent) until its retry starts.
      run.reasons[number] =
        `attempt ${run.attempts[number]?.length} failed: ${trial.reason}; retrying` +
        (this.opts.checkpointRoot === undefined ? '' : ' from its latest checkpoint');
      run.retryQueue.push(number);
      this.notify(run, `trial ${number} failed, retrying`);
      setImmediate(() => this.pump(run));
      return;
    } else {
      record.state = 'failed';
      run.reasons[number] = trial.reason;
    }
    run.running.delete(number);
    this.notify(run, `trial ${number} ${record.state}`);
    if (run.state === StudyState.STUDY_STATE_RUNNING) setImmediate(() => this.pump(run));
    else this.finishIfIdle(run, run.reason);
  }

  private finishIfIdle(run: StudyRun, reason: string): void {
    if (run.running.size > 0) return;
    if (run.state === StudyState.STUDY_STATE_RUNNING) {
      run.state = StudyState.STUDY_STATE_COMPLETED;
      run.reason = reason;
    }
    this.notify(
      run,
      `study ${StudyState[run.state]?.replace('STUDY_STATE_', '').toLowerCase()}: ${run.reason}`,
    );
    run.listeners.clear();
    run.settle();
  }

  private notify(run: StudyRun, message: string): void {
    run.updatedMs = this.now();
    this.persist(run);
    this.exportBest(run);
    if (run.listeners.size === 0) return;
    const event = { study: this.snapshot(run), message };
    for (const l of [...run.listeners]) {
      try {
        l(event);
      } catch {
        run.listeners.delete(l);
      }
    }
  }

  private exportBest(run: StudyRun): void {
    const gauge = this.opts.metrics?.studyBest;
    if (gauge === undefined) return;
    run.spec.objectives.forEach((o, i) => {
      const values = run.records.flatMap((r) =>
        r.state === 'complete' && Number.isFinite(r.values?.[i]) ? [r.values?.[i] as number] : [],
      );
      if (values.length === 0) return;
      const best = o.direction === 'maximize' ? Math.max(...values) : Math.min(...values);
      gauge.set({ study: run.id, name: run.spec.name, objective: o.metric }, best);
    });
  }

  /** A running study that wants more trainers than are idle, while the launcher reports problems. */
  private waitingReason(run: StudyRun): string | undefined {
    if (run.state !== StudyState.STUDY_STATE_RUNNING) return undefined;
    const problems = this.opts.trainerProblems?.() ?? [];
    if (problems.length === 0) return undefined;
    const capacity = Math.min(run.spec.budget.maxTrials, run.sampler.capacity(run.spec.space));
    const wants =
      run.retryQueue.length > 0 ||
      (run.records.length < capacity && run.running.size < run.spec.budget.maxConcurrent);
    if (!wants || this.opts.registry.idle().length >= run.spec.trainersPerTrial) return undefined;
    return `waiting for trainers: ${problems.join('; ')}`;
  }

  /** Saves the study, coalescing changes that arrive while a save is in flight. */
  private persist(run: StudyRun): void {
    const store = this.opts.store;
    if (store === undefined) return;
    if (run.saving) {
      run.dirty = true;
      return;
    }
    run.saving = true;
    run.dirty = false;
    const saved: PersistedStudy = {
      format: 'crl-study',
      version: 1,
      id: run.id,
      specText: run.specJson,
      state: run.state,
      reason: run.reason,
      createdMs: run.createdMs,
      startedMs: run.startedMs,
      records: structuredClone(run.records),
      attempts: structuredClone(run.attempts),
      reasons: [...run.reasons],
    };
    store
      .save(saved)
      .catch((err: unknown) => console.error(`study ${run.id}: could not save: ${(err as Error).message}`))
      .finally(() => {
        run.saving = false;
        if (run.dirty) this.persist(run);
        else this.flushed(run);
      });
  }

  /** Resolves when every study's latest state is saved (tests, orderly shutdown). */
  async flush(): Promise<void> {
    const pending = [...this.runs.values()].filter((r) => r.saving || r.dirty);
    await Promise.all(
      pending.map(
        (r) =>
          new Promise<void>((resolve) =>
            this.waiters.set(r.id, [...(this.waiters.get(r.id) ?? []), resolve]),
          ),
      ),
    );
  }

  private readonly waiters = new Map<string, (() => void)[]>();

  private flushed(run: StudyRun): void {
    const ws = this.waiters.get(run.id);
    this.waiters.delete(run.id);
    ws?.forEach((w) => w());
  }

  private snapshot(run: StudyRun): Study {
    const directions = run.spec.objectives.map((o) => o.direction);
    const front =
      directions.length === 1
        ? [best(run.records, directions)].flatMap((t) => (t === undefined ? [] : [t.number]))
        : paretoFront(run.records, directions).map((t) => t.number);
    return {
      id: run.id,
      name: run.spec.name,
      specJson: run.specJson,
      state: run.state,
      trials: run.records.map((r, n): StudyTrial => ({
        number: r.number,
        paramsJson: JSON.stringify(r.params),
        outcome: OUTCOME[r.state],
        values: r.values ?? [],
        intermediate: r.intermediate.map((i) => ({ step: i.step, values: i.values })),
        trialIds: run.attempts[n] ?? [],
        reason: run.reasons[n] ?? '',
      })),
      bestTrials: front,
      reason: this.waitingReason(run) ?? run.reason,
      createdMs: run.createdMs,
      updatedMs: run.updatedMs,
      objectives: run.spec.objectives.map((o) => `${o.metric}:${o.direction}`),
      intermediateObjectives: run.spec.intermediate.map((o) => `${o.metric}:${o.direction}`),
    };
  }
}

const OUTCOME = {
  running: StudyTrialOutcome.STUDY_TRIAL_OUTCOME_RUNNING,
  complete: StudyTrialOutcome.STUDY_TRIAL_OUTCOME_COMPLETE,
  pruned: StudyTrialOutcome.STUDY_TRIAL_OUTCOME_PRUNED,
  failed: StudyTrialOutcome.STUDY_TRIAL_OUTCOME_FAILED,
} as const;
