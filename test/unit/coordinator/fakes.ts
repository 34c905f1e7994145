/**
 * Stand-ins for trainers and the evaluator, served by real grpc-js servers on loopback, so the
 * coordinator is exercised over the wire (streams, statuses, cancellation) without training
 * anything. Each fake records what it was asked.
 */
import { Metadata, status, type ServerWritableStream } from '@grpc/grpc-js';
import { afterAll } from 'vitest';
import { startGrpcServer, type RunningGrpcServer } from '../../../common/rpc/server.js';
import { decodeTensor, encodeTensor } from '../../../common/rpc/tensor.js';
import {
  EvaluatorServiceService,
  type EvaluateLatentsRequest,
  type EvaluateLatentsResponse,
  type EvaluatorServiceServer,
} from '../../../proto/gen/crl/v1/evaluator.js';
import { EdgeMark, type Graph } from '../../../proto/gen/crl/v1/graph.js';
import {
  TrainerServiceService,
  type JoinTrialRequest,
  type JoinTrialResponse,
  type TrainerServiceServer,
} from '../../../proto/gen/crl/v1/trainer.js';
import type { Progress, TrialSpec } from '../../../proto/gen/crl/v1/trial.js';

export type FakeBehaviour =
  /** Three progress events, then a summary; GetLatents answers its shard's rows. */
  | 'ok'
  /** Two progress events, then an UNAVAILABLE status. */
  | 'error'
  /** One progress event, then silence until LeaveTrial or cancellation. */
  | 'hang'
  /** Two progress events, then a clean end without a summary. */
  | 'end-early';

export interface FakeTrainerOptions {
  behaviour?: FakeBehaviour;
  /**
   * Modality sizes: name -> 1-based dataset index, latents k_m (for z and the graph's nodes) and
   * exogenous slots e_m (default 0).
   */
  layout: Record<string, { index: number; latents: number; exogenous?: number }>;
  /** Rows of the dataset. */
  rows: number;
  /** GetLatents: rows per message. */
  chunkRows?: number;
  /** GetLatents: also send row 0 of the first modality a second time. */
  duplicateRow?: boolean;
  /** GetLatents: leave out the last row of each modality. */
  dropLastRow?: boolean;
  /** Pause between progress events. */
  delayMs?: number;
  /** Posterior mean of (modality, row, component); default `fakeZ`. */
  z?: (modality: string, row: number, j: number) => number;
  /** Posterior mean of an exogenous slot (modality, row, slot); default `fakeZ` past the latents. */
  eta?: (modality: string, row: number, j: number) => number;
}

export interface FakeTrainer {
  readonly address: string;
  readonly joins: JoinTrialRequest[];
  readonly leaves: string[];
  readonly latentCalls: string[];
  /** Join streams the client cancelled. */
  cancelled: number;
  stop(): Promise<void>;
}

/** Deterministic posterior mean of row r, component j of a modality (a test computes it too). */
export function fakeZ(modalityIndex: number, row: number, j: number): number {
  return Math.sin(0.01 * row * (j + 1) + modalityIndex) + 0.001 * row;
}

export function fakeProgress(step: number, total: number): Progress {
  return {
    step,
    totalSteps: total,
    lr: 0.001,
    trainTotal: 10 - step / 10,
    trainInd: 1,
    trainSp: 0.5,
    trainRecon: 2,
    valTotal: 11 - step / 10,
    valInd: 1,
    valSp: 0.5,
    valRecon: 2,
    edges: 1,
    wallS: step / 100,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startFakeTrainer(opts: FakeTrainerOptions): Promise<FakeTrainer> {
  const behaviour = opts.behaviour ?? 'ok';
  const joins: JoinTrialRequest[] = [];
  const leaves: string[] = [];
  const latentCalls: string[] = [];
  const open = new Map<string, ServerWritableStream<JoinTrialRequest, JoinTrialResponse>>();
  const fake = { joins, leaves, latentCalls, cancelled: 0 };

  const graphOf = (req: JoinTrialRequest): Graph => {
    const nodes = [...new Set(req.group.flatMap((a) => a.modalities))].flatMap((m) => {
      const l = opts.layout[m];
      return l === undefined ? [] : Array.from({ length: l.latents }, (_, i) => `z${l.index}_${i + 1}`);
    });
    // One inter-modal edge when there are two modalities' worth of nodes.
    const last = nodes.length - 1;
    return {
      nodes,
      edges: last > 0 ? [{ from: 0, to: last, mark: EdgeMark.EDGE_MARK_DIRECTED }] : [],
    };
  };

  const impl: TrainerServiceServer = {
    joinTrial: (call) => {
      const req = call.request;
      joins.push(req);
      open.set(req.trialId, call);
      call.on('cancelled', () => {
        fake.cancelled++;
        open.delete(req.trialId);
      });
      void (async () => {
        const total = 30;
        const steps = behaviour === 'ok' ? [10, 20, 30] : behaviour === 'hang' ? [10] : [10, 20];
        const curve: Progress[] = [];
        for (const step of steps) {
          await sleep(opts.delayMs ?? 5);
          if (call.cancelled || call.writableEnded) return;
          const p = fakeProgress(step, total);
          curve.push(p);
          call.write({ event: { $case: 'progress', progress: p } });
        }
        if (behaviour === 'hang') return;
        if (behaviour === 'error') {
          call.emit('error', {
            code: status.UNAVAILABLE,
            details: 'lost the NATS connection',
            metadata: new Metadata(),
          });
          return;
        }
        if (behaviour === 'end-early') {
          call.end();
          return;
        }
        call.write({
          event: {
            $case: 'summary',
            summary: {
              steps: total,
              stoppedEarly: false,
              wallS: 2,
              stepsPerS: 15,
              backend: 'fake',
              graph: graphOf(req),
              edgeProbabilities: undefined,
              syncWaitS: 0.5,
              curve,
            },
          },
        });
        call.end();
        open.delete(req.trialId);
      })();
    },

    getLatents: (call) => {
      latentCalls.push(call.request.trialId);
      const join = joins.find((j) => j.trialId === call.request.trialId);
      if (join?.assignment === undefined) {
        call.emit('error', { code: status.NOT_FOUND, details: 'no such trial', metadata: new Metadata() });
        return;
      }
      const { modalities, shardIndex, shardCount } = join.assignment;
      const per = Math.ceil(opts.rows / shardCount);
      const start = shardIndex * per;
      const end = Math.min(opts.rows, start + per) - (opts.dropLastRow ? 1 : 0);
      const chunk = opts.chunkRows ?? 64;
      for (const name of modalities) {
        const l = opts.layout[name];
        if (l === undefined) continue;
        for (let r0 = start; r0 < end; r0 += chunk) {
          const rows = Math.min(chunk, end - r0);
          const z = new Float32Array(rows * l.latents);
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < l.latents; j++) {
              z[r * l.latents + j] = opts.z ? opts.z(name, r0 + r, j) : fakeZ(l.index, r0 + r, j);
            }
          }
          const e = l.exogenous ?? 0;
          const eta = new Float32Array(rows * e);
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < e; j++) {
              eta[r * e + j] = opts.eta ? opts.eta(name, r0 + r, j) : fakeZ(l.index, r0 + r, l.latents + j);
            }
          }
          call.write({
            modality: name,
            rowOffset: r0,
            z: encodeTensor(z, [rows, l.latents]),
            exogenous: e === 0 ? undefined : encodeTensor(eta, [rows, e]),
          });
        }
        if (opts.duplicateRow && name === modalities[0]) {
          const z = new Float32Array(l.latents);
          const e = l.exogenous ?? 0;
          call.write({
            modality: name,
            rowOffset: start,
            z: encodeTensor(z, [1, l.latents]),
            exogenous: e === 0 ? undefined : encodeTensor(new Float32Array(e), [1, e]),
          });
        }
      }
      call.end();
    },

    checkpoint: (_call, callback) => callback(null, { path: '', step: 0 }),

    leaveTrial: (call, callback) => {
      leaves.push(call.request.trialId);
      const join = open.get(call.request.trialId);
      open.delete(call.request.trialId);
      if (join !== undefined && !join.writableEnded) join.end();
      callback(null, {});
    },
  };

  const server = await startGrpcServer({
    services: [{ definition: TrainerServiceService, implementation: impl }],
  });
  return Object.assign(fake, {
    address: server.address,
    stop: () => server.stop(100),
  });
}

export interface FakeEvaluator {
  readonly address: string;
  readonly requests: EvaluateLatentsRequest[];
  /** When set, EvaluateLatents fails with this status. */
  failWith: status | undefined;
  stop(): Promise<void>;
}

export const FAKE_SCORES: EvaluateLatentsResponse = {
  mcc: 0.9,
  mccPerModality: { m1: 0.95, m2: 0.85 },
  r2: 0.8,
  matching: [],
  matchedCorr: [],
  r2PerLatent: {},
  mccAlignedPerModality: {},
  shd: 1,
  shdCdt: 2,
  shdSkeleton: 0,
};

export async function startFakeEvaluator(): Promise<FakeEvaluator> {
  const fake = { requests: [] as EvaluateLatentsRequest[], failWith: undefined as status | undefined };
  const impl: EvaluatorServiceServer = {
    evaluateLatents: (call, callback) => {
      fake.requests.push(call.request);
      if (fake.failWith !== undefined) {
        callback({ code: fake.failWith, details: 'evaluator broke', metadata: new Metadata() });
        return;
      }
      // Both tensors must decode with the shapes the names promise.
      const est = decodeTensor(call.request.estimated, 'estimated');
      const truth = decodeTensor(call.request.truth, 'truth');
      if (est.shape[1] !== call.request.estimatedNames.length || truth.shape[0] !== est.shape[0]) {
        callback({ code: status.INVALID_ARGUMENT, details: 'shape mismatch', metadata: new Metadata() });
        return;
      }
      callback(null, FAKE_SCORES);
    },
    discoverGraph: (_call, callback) => callback(null, { graph: undefined, ciTests: 0 }),
    compareGraphs: (_call, callback) =>
      callback(null, { shd: 0, shdCdt: 0, shdSkeleton: 0, missing: [], extra: [], reversed: [] }),
  };
  const server: RunningGrpcServer = await startGrpcServer({
    services: [{ definition: EvaluatorServiceService, implementation: impl }],
  });
  return Object.assign(fake, { address: server.address, stop: () => server.stop(100) });
}

/** Stops everything a test file started, after its tests. */
export function stopAfterAll(...items: { stop(): Promise<void> }[]): void {
  afterAll(async () => {
    await Promise.all(items.map((i) => i.stop()));
  });
}

/** A TrialSpec with every field at its proto default, then `over`. */
export function trialSpec(over: Partial<TrialSpec> = {}): TrialSpec {
  return {
    preset: '',
    dataDir: '',
    modalities: [],
    seed: 0,
    rows: 0,
    steps: 0,
    batchSize: 0,
    lr: 0,
    evalEvery: 0,
    patience: 0,
    overridesJson: '',
    outDir: '',
    checkpointDir: '',
    resume: false,
    ...over,
  };
}
