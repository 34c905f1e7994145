import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../common/graph.js';
import { makeTable } from '../../common/matrix.js';
import { Rng } from '../../common/random.js';
import { toProtoGraph } from '../../common/rpc/graph.js';
import { clientOptions } from '../../common/rpc/server.js';
import { fromServiceError } from '../../common/rpc/status.js';
import { encodeTensor } from '../../common/rpc/tensor.js';
import { mcc, shd } from '../../evaluator/metrics/index.js';
import { randomLinearSem, sampleLinearSem } from '../../evaluator/pc/simulate.js';
import { startEvaluatorServer, type RunningEvaluatorServer } from '../../evaluator/service/server.js';
import {
  EvaluatorServiceClient,
  type CompareGraphsRequest,
  type CompareGraphsResponse,
  type DiscoverGraphRequest,
  type DiscoverGraphResponse,
  type EvaluateLatentsRequest,
  type EvaluateLatentsResponse,
} from '../../proto/gen/crl/v1/evaluator.js';
import type { Tensor } from '../../proto/gen/crl/v1/tensor.js';

const NAMES = ['z1_1', 'z1_2', 'z2_1', 'z2_2'];
const N = 400;

/** (n, d) standard normal truth, row-major. */
function normals(n: number, d: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n * d }, () => rng.normal());
}

/**
 * The estimate: truth columns permuted within each modality, rescaled, sign-flipped and shifted,
 * plus optional noise. est[:, i] = scale[i] * truth[:, perm[i]] + 1 + noise.
 */
const PERM = [1, 0, 3, 2];
const SCALE = [3, -0.5, 2, 1];
function transformed(truth: Float32Array, rng: Rng, noise: number): Float32Array {
  const d = NAMES.length;
  const out = new Float32Array(truth.length);
  for (let r = 0; r < truth.length / d; r++) {
    for (let i = 0; i < d; i++) {
      const t = truth[r * d + (PERM[i] as number)] as number;
      out[r * d + i] = (SCALE[i] as number) * t + 1 + noise * rng.normal();
    }
  }
  return out;
}

function latentsRequest(patch: Partial<EvaluateLatentsRequest> = {}): EvaluateLatentsRequest {
  const rng = new Rng(1);
  const truth = normals(N, 4, rng);
  return {
    estimated: encodeTensor(transformed(truth, rng, 0), [N, 4]),
    truth: encodeTensor(truth, [N, 4]),
    estimatedNames: NAMES,
    truthNames: NAMES,
    learned: undefined,
    trueGraph: undefined,
    r2Protocol: '',
    skipR2: true,
    seed: 0,
    exogenous: undefined,
    exogenousNames: [],
    ...patch,
  };
}

/**
 * Truth z (N x 4, NAMES) and an estimate whose modality-1 code [z1_1 z1_2 eta1_1] holds z1_1 turned
 * 45 degrees into its exogenous slot: MCC misses it, the aligned MCC with the slot finds it.
 */
function rotatedIntoEta(): Pick<
  EvaluateLatentsRequest,
  'estimated' | 'truth' | 'exogenous' | 'exogenousNames'
> {
  const rng = new Rng(5);
  const z = normals(N, 4, rng);
  const eta = normals(N, 2, rng);
  const est = Float32Array.from(z);
  const exo = Float32Array.from(eta);
  const c = Math.SQRT1_2;
  for (let r = 0; r < N; r++) {
    const a = z[r * 4] as number;
    const e = eta[r * 2] as number;
    est[r * 4] = c * a - c * e;
    exo[r * 2] = c * a + c * e;
  }
  return {
    estimated: encodeTensor(est, [N, 4]),
    truth: encodeTensor(z, [N, 4]),
    exogenous: encodeTensor(exo, [N, 2]),
    exogenousNames: ['eta1_1', 'eta2_1'],
  };
}

function chainData(n: number, seed: number): { tensor: Tensor; names: string[] } {
  const names = ['x1', 'x2', 'x3', 'x4'];
  const dag: Graph = {
    nodes: names,
    edges: [
      [0, 1, '-->'],
      [1, 2, '-->'],
      [2, 3, '-->'],
    ],
  };
  const rng = new Rng(seed);
  const table = sampleLinearSem(randomLinearSem(dag, rng, { positive: true }), n, rng);
  return { tensor: encodeTensor(Float32Array.from(table.data), [n, names.length]), names };
}

function discoverRequest(patch: Partial<DiscoverGraphRequest> = {}): DiscoverGraphRequest {
  const { tensor, names } = chainData(1000, 7);
  return { data: tensor, names, ciTest: '', alpha: 0, ...patch };
}

/** A unary call as a promise; the callback form is the one overload TypeScript infers well. */
function call<Res>(start: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => start((err, res) => (err ? reject(err) : resolve(res))));
}

async function failure<Res>(p: Promise<Res>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

function skeletonOf(g: { nodes: string[]; edges: { from: number; to: number }[] } | undefined): string[] {
  if (g === undefined) return [];
  return g.edges.map((e) => [g.nodes[e.from], g.nodes[e.to]].sort().join('-')).sort();
}

describe('evaluator gRPC service', () => {
  let server: RunningEvaluatorServer;
  let client: EvaluatorServiceClient;

  const evaluateLatents = (req: EvaluateLatentsRequest): Promise<EvaluateLatentsResponse> =>
    call((cb) => client.evaluateLatents(req, cb));
  const discoverGraph = (req: DiscoverGraphRequest): Promise<DiscoverGraphResponse> =>
    call((cb) => client.discoverGraph(req, cb));
  const compareGraphs = (req: CompareGraphsRequest): Promise<CompareGraphsResponse> =>
    call((cb) => client.compareGraphs(req, cb));

  beforeAll(async () => {
    server = await startEvaluatorServer({ metricsPort: 0 });
    client = new EvaluatorServiceClient(server.address, credentials.createInsecure(), clientOptions());
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it('listens on loopback', () => {
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it('scores an estimate that is a permutation and rescaling of the truth at MCC 1', async () => {
    const res = await evaluateLatents(latentsRequest({ skipR2: false, r2Protocol: 'heldout' }));
    expect(res.mcc).toBeCloseTo(1, 5);
    expect(Object.keys(res.mccPerModality).sort()).toEqual(['1', '2']);
    expect(res.mccPerModality['1']).toBeCloseTo(1, 5);
    expect(res.mccPerModality['2']).toBeCloseTo(1, 5);
    expect(res.matching).toEqual(PERM);
    // Each pair's correlation carries the sign of the rescaling (SCALE[1] < 0).
    expect(res.matchedCorr.map((c) => Math.round(c * 1e5) / 1e5)).toEqual(SCALE.map(Math.sign));
    expect(res.r2).toBeGreaterThan(0.9);
    expect(Object.keys(res.r2PerLatent).sort()).toEqual(NAMES);
    const r2s = Object.values(res.r2PerLatent);
    expect(res.r2).toBeCloseTo(r2s.reduce((a, b) => a + b, 0) / r2s.length, 10);
    expect(res.shd).toBeUndefined();
  });

  it('scores a noisy estimate below 1, as the library does', async () => {
    const rng = new Rng(2);
    const truth = normals(N, 4, rng);
    const est = transformed(truth, rng, 2);
    const res = await evaluateLatents(
      latentsRequest({
        estimated: encodeTensor(est, [N, 4]),
        truth: encodeTensor(truth, [N, 4]),
        skipR2: false,
        r2Protocol: 'insample',
      }),
    );
    expect(res.mcc).toBeLessThan(0.95);
    expect(res.mcc).toBeGreaterThan(0.3);
    const lib = mcc(
      makeTable(NAMES, N, Float64Array.from(truth)),
      makeTable(NAMES, N, Float64Array.from(est)),
    );
    expect(res.mcc).toBeCloseTo(lib.mcc, 10);
    // The pairs' |corr| average to the MCC the library gives (one matching over all columns here).
    expect(res.matchedCorr.reduce((a, c) => a + Math.abs(c), 0) / 4).toBeCloseTo(lib.mcc, 10);
    expect(res.r2).toBeDefined();
  });

  it("aligns each modality's whole code onto its truth when the exogenous slots come along", async () => {
    const plain = await evaluateLatents(latentsRequest());
    // A permutation with signs is a rotation of the code; the unequal rescaling is not, hence a
    // little under 1 (Procrustes weighs the columns by their scale).
    expect(plain.mccAligned).toBeGreaterThan(0.95);
    expect(Object.keys(plain.mccAlignedPerModality).sort()).toEqual(['1', '2']);

    const turned = rotatedIntoEta();
    const withSlots = await evaluateLatents(latentsRequest(turned));
    expect(withSlots.mccPerModality['1']).toBeLessThan(0.9);
    expect(withSlots.mccAligned).toBeGreaterThan(0.99);
    expect(withSlots.mccAlignedPerModality['1']).toBeGreaterThan(0.99);
    const latentsOnly = await evaluateLatents(
      latentsRequest({ ...turned, exogenous: undefined, exogenousNames: [] }),
    );
    expect(latentsOnly.mccAlignedPerModality['1']).toBeLessThan(0.9);

    // Names outside the convention: no aligned MCC, unless slots were sent for one.
    const other = ['a', 'b', 'c', 'd'];
    const unnamed = await evaluateLatents(latentsRequest({ estimatedNames: other, truthNames: other }));
    expect(unnamed.mccAligned).toBeUndefined();
    expect(unnamed.mccAlignedPerModality).toEqual({});
  });

  it('omits r2 with skip_r2', async () => {
    const res = await evaluateLatents(latentsRequest({ skipR2: true }));
    expect(res.r2).toBeUndefined();
    expect(res.r2PerLatent).toEqual({});
  });

  it('relabels the learned graph by the MCC matching before SHD, matching shd()', async () => {
    const trueGraph: Graph = {
      nodes: NAMES,
      edges: [
        [0, 2, '-->'],
        [1, 3, '-->'],
      ],
    };
    // In estimate names; est z1_1 is truth z1_2 and est z2_1 is truth z2_2 (PERM), so the first
    // edge is right after relabelling and the second one is wrong.
    const learned: Graph = {
      nodes: NAMES,
      edges: [
        [0, 2, '-->'],
        [3, 0, '-->'],
      ],
    };
    const res = await evaluateLatents(
      latentsRequest({ learned: toProtoGraph(learned), trueGraph: toProtoGraph(trueGraph) }),
    );
    const relabel = { z1_1: 'z1_2', z1_2: 'z1_1', z2_1: 'z2_2', z2_2: 'z2_1' };
    const lib = shd(trueGraph, learned, { relabel });
    expect(lib.shd).toBeGreaterThan(0);
    expect([res.shd, res.shdCdt, res.shdSkeleton]).toEqual([lib.shd, lib.shd_cdt, lib.shd_skeleton]);
  });

  it('recovers the skeleton of a linear-Gaussian chain with PC (Fisher-z)', async () => {
    const res = await discoverGraph(discoverRequest());
    expect(res.graph?.nodes).toEqual(['x1', 'x2', 'x3', 'x4']);
    expect(skeletonOf(res.graph)).toEqual(['x1-x2', 'x2-x3', 'x3-x4']);
    expect(res.ciTests).toBeGreaterThan(0);
  });

  it('runs PC with KCI when asked', async () => {
    const { tensor, names } = chainData(150, 3);
    const res = await discoverGraph({ data: tensor, names, ciTest: 'kci', alpha: 0.01 });
    expect(res.graph?.nodes).toEqual(names);
    expect(res.ciTests).toBeGreaterThan(0);
  });

  it('compares graphs in the three SHD conventions, as shd() does', async () => {
    const truth: Graph = {
      nodes: ['a', 'b', 'c', 'd'],
      edges: [
        [0, 1, '-->'],
        [1, 2, '-->'],
        [2, 3, '---'],
      ],
    };
    const estimated: Graph = {
      nodes: ['a', 'b', 'c', 'd'],
      edges: [
        [1, 0, '-->'],
        [0, 3, '-->'],
        [2, 3, '-->'],
      ],
    };
    const res = await compareGraphs({ estimated: toProtoGraph(estimated), truth: toProtoGraph(truth) });
    const lib = shd(truth, estimated);
    expect(res).toEqual({
      shd: lib.shd,
      shdCdt: lib.shd_cdt,
      shdSkeleton: lib.shd_skeleton,
      missing: lib.missing,
      extra: lib.extra,
      reversed: ['b --> a'],
    });
  });

  describe('rejects bad input with INVALID_ARGUMENT naming the field, and keeps serving', () => {
    const good = encodeTensor(new Float32Array(N * 4), [N, 4]);
    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        'a missing tensor',
        () => evaluateLatents(latentsRequest({ estimated: undefined })),
        /^estimated: tensor is missing/,
      ],
      [
        'a wrong byte length',
        () => evaluateLatents(latentsRequest({ truth: { ...good, data: good.data.subarray(0, 96) } })),
        /^truth: 96 bytes for shape \[400, 4\] \(float32 needs 6400\)/,
      ],
      [
        'a row mismatch',
        () => evaluateLatents(latentsRequest({ truth: encodeTensor(new Float32Array(40), [10, 4]) })),
        /estimated has 400 rows but truth has 10/,
      ],
      [
        'a name count that differs from the columns',
        () => evaluateLatents(latentsRequest({ truthNames: ['z1_1'] })),
        /^truth_names: 1 names for 4 columns/,
      ],
      [
        'an exogenous slot of a modality without latents',
        () => evaluateLatents(latentsRequest({ ...rotatedIntoEta(), exogenousNames: ['eta1_1', 'eta3_1'] })),
        /^exogenous_names: "eta3_1" is not eta<m>_<j> of a modality m with latents \(z1_\*, z2_\*\)/,
      ],
      [
        'exogenous slots with fewer rows',
        () =>
          evaluateLatents(
            latentsRequest({
              ...rotatedIntoEta(),
              exogenous: encodeTensor(new Float32Array(20), [10, 2]),
            }),
          ),
        /^exogenous: estimated has 400 rows but exogenous has 10/,
      ],
      [
        'exogenous slots beside latents outside the naming convention',
        () =>
          evaluateLatents(
            latentsRequest({
              ...rotatedIntoEta(),
              estimatedNames: ['a', 'b', 'c', 'd'],
              truthNames: ['a', 'b', 'c', 'd'],
            }),
          ),
        /^estimated_names: the aligned MCC needs estimated latents named z<m>_<i>/,
      ],
      [
        'an unknown r2_protocol',
        () => evaluateLatents(latentsRequest({ r2Protocol: 'bogus', skipR2: false })),
        /^r2_protocol: "bogus" is not one of heldout, insample/,
      ],
      [
        'one graph without the other',
        () => evaluateLatents(latentsRequest({ learned: { nodes: NAMES, edges: [] } })),
        /^true_graph: learned and true_graph go together/,
      ],
      ['an unknown ci_test', () => discoverGraph(discoverRequest({ ciTest: 'gsq' })), /^ci_test: "gsq"/],
      ['an alpha out of range', () => discoverGraph(discoverRequest({ alpha: 1.5 })), /^alpha: must be in/],
      [
        'a missing graph',
        () => compareGraphs({ estimated: undefined, truth: { nodes: ['a'], edges: [] } }),
        /^estimated: graph is missing/,
      ],
      [
        'an unspecified edge mark',
        () =>
          compareGraphs({
            estimated: { nodes: ['a', 'b'], edges: [{ from: 0, to: 1, mark: 0 }] },
            truth: { nodes: ['a', 'b'], edges: [] },
          }),
        /^estimated\.edges\[0\]: edge mark EDGE_MARK_UNSPECIFIED/,
      ],
    ];
    it.each(cases)('%s', async (_what, run, message) => {
      const err = await failure(run());
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(message);
      const crl = fromServiceError(err);
      expect(crl.code).toBe('INVALID_ARGUMENT');
      expect(crl.message).toBe(err.details);
      const ok = await evaluateLatents(latentsRequest());
      expect(ok.mcc).toBeCloseTo(1, 5);
    });
  });

  it('counts requests by method and status code on /metrics', async () => {
    const res = await fetch(server.metricsUrl as string);
    const text = await res.text();
    const count = (method: string, code: string): number => {
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('crl_evaluator_requests_total{') &&
            l.includes(`method="${method}"`) &&
            l.includes(`code="${code}"`),
        );
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    expect(count('EvaluateLatents', 'OK')).toBeGreaterThan(5);
    expect(count('EvaluateLatents', 'INVALID_ARGUMENT')).toBe(9);
    expect(count('DiscoverGraph', 'INVALID_ARGUMENT')).toBe(2);
    expect(count('CompareGraphs', 'OK')).toBe(1);
    expect(text).toMatch(
      /crl_evaluator_request_duration_seconds_count\{[^}]*method="DiscoverGraph"[^}]*\} \d+/,
    );
  });
});
