import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { errorOf } from '../../helpers/errors.js';
import { describe, expect, it } from 'vitest';
import { CrlError, invalidArgument, type CrlErrorCode } from '../../../common/errors.js';
import type { Graph } from '../../../common/graph.js';
import { fromProtoGraph, toProtoGraph } from '../../../common/rpc/graph.js';
import {
  crlCodeOf,
  fromServiceError,
  grpcStatusOf,
  statusName,
  toServiceError,
} from '../../../common/rpc/status.js';
import { decodeTensor, encodeTensor } from '../../../common/rpc/tensor.js';
import { EdgeMark } from '../../../proto/gen/crl/v1/graph.js';
import { Tensor } from '../../../proto/gen/crl/v1/tensor.js';

describe('tensor codec', () => {
  const values = Float32Array.from([1.5, -2, 3.25, 0, 1e-7, -1e30]);

  it('round-trips values and shape, little-endian', () => {
    const t = encodeTensor(values, [2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3]);
    expect(t.data.readFloatLE(4)).toBe(-2);
    const back = decodeTensor(t, 'x', { rank: 2, shape: [null, 3] });
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.values)).toEqual(Array.from(values));
  });

  it('survives protobuf encoding, where the bytes land at an arbitrary offset', () => {
    const wire = Tensor.encode(encodeTensor(values, [6])).finish();
    const decoded = Tensor.decode(wire);
    expect(decodeTensor(decoded, 'x').values).toEqual(values);
  });

  it('reads bytes at an unaligned offset', () => {
    const src = encodeTensor(values, [3, 2]).data;
    const backing = Buffer.alloc(src.length + 3);
    src.copy(backing, 1);
    const unaligned = backing.subarray(1, 1 + src.length);
    expect(unaligned.byteOffset % 4).not.toBe(0);
    const back = decodeTensor({ dtype: 'float32', shape: [3, 2], data: unaligned }, 'x');
    expect(Array.from(back.values)).toEqual(Array.from(values));
    expect(back.values.byteOffset % 4).toBe(0);
  });

  it('handles empty tensors and scalars', () => {
    expect(decodeTensor(encodeTensor(new Float32Array(0), [0, 5]), 'x').shape).toEqual([0, 5]);
    expect(Array.from(decodeTensor(encodeTensor(Float32Array.of(7), []), 'x').values)).toEqual([7]);
  });

  it('rejects a values/shape mismatch when encoding', () => {
    expect(() => encodeTensor(values, [4, 2])).toThrow(/6 values for shape \[4, 2\]/);
  });

  const good = encodeTensor(new Float32Array(28), [4, 7]);
  const rejections: Array<[string, Tensor | undefined, RegExp, Parameters<typeof decodeTensor>[2]?]> = [
    ['a missing tensor', undefined, /estimated: tensor is missing/],
    ['an unknown dtype', { ...good, dtype: 'float64' }, /estimated: dtype "float64" is not supported/],
    ['an empty dtype', { ...good, dtype: '' }, /estimated: dtype "" is not supported/],
    ['a negative dimension', { ...good, shape: [4, -7] }, /estimated: dimension 1 .* is -7/],
    ['a non-integer dimension', { ...good, shape: [4.5, 7] }, /estimated: dimension 0 .* is 4.5/],
    [
      'a short byte length',
      { ...good, data: good.data.subarray(0, 96) },
      /^estimated: 96 bytes for shape \[4, 7\] \(float32 needs 112\)$/,
    ],
    [
      'a long byte length',
      { ...good, shape: [4, 6] },
      /estimated: 112 bytes for shape \[4, 6\] \(float32 needs 96\)/,
    ],
    ['the wrong rank', good, /estimated: shape \[4, 7\] has rank 2, expected 3/, { rank: 3 }],
    ['the wrong shape', good, /estimated: shape \[4, 7\] does not match \[\?, 8\]/, { shape: [null, 8] }],
  ];
  it.each(rejections)('rejects %s, naming the field', (_what, t, message, expect_) => {
    const err = errorOf(() => decodeTensor(t, 'estimated', expect_));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.where.field).toBe('estimated');
    expect(err.message).toMatch(message);
  });
});

describe('graph codec', () => {
  const g: Graph = {
    nodes: ['a', 'b', 'c'],
    edges: [
      [0, 1, '-->'],
      [2, 1, '---'],
    ],
  };

  it('round-trips through the proto message and its wire form', () => {
    const p = toProtoGraph(g);
    expect(p.edges[0]?.mark).toBe(EdgeMark.EDGE_MARK_DIRECTED);
    expect(p.edges[1]?.mark).toBe(EdgeMark.EDGE_MARK_UNDIRECTED);
    expect(fromProtoGraph(p, 'learned')).toEqual(g);
  });

  it('drops meta, which has no wire form', () => {
    expect(fromProtoGraph(toProtoGraph({ ...g, meta: { source: 'pc' } }), 'g')).toEqual(g);
  });

  it('rejects a missing graph and an unspecified mark, naming the field', () => {
    expect(errorOf(() => fromProtoGraph(undefined, 'true_graph')).message).toMatch(
      /^true_graph: graph is missing/,
    );
    const p = toProtoGraph(g);
    const bad = { ...p, edges: [p.edges[0]!, { from: 1, to: 2, mark: EdgeMark.EDGE_MARK_UNSPECIFIED }] };
    const err = errorOf(() => fromProtoGraph(bad, 'learned'));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.where.field).toBe('learned.edges[1]');
    expect(err.message).toMatch(/EDGE_MARK_UNSPECIFIED/);
  });

  it('applies the graph file rules (parseGraph) with the field as the label', () => {
    const cases: Array<[Partial<ReturnType<typeof toProtoGraph>>, RegExp]> = [
      [{ edges: [{ from: 0, to: 3, mark: EdgeMark.EDGE_MARK_DIRECTED }] }, /node index 3 is not in 0\.\.2/],
      [{ edges: [{ from: 1, to: 1, mark: EdgeMark.EDGE_MARK_DIRECTED }] }, /self-loop/],
      [{ nodes: ['a', 'a', 'c'], edges: [] }, /duplicate node "a"/],
      [
        {
          edges: [
            { from: 0, to: 1, mark: EdgeMark.EDGE_MARK_DIRECTED },
            { from: 1, to: 0, mark: EdgeMark.EDGE_MARK_DIRECTED },
          ],
        },
        /second edge/,
      ],
    ];
    for (const [patch, message] of cases) {
      const err = errorOf(() => fromProtoGraph({ ...toProtoGraph(g), ...patch }, 'learned'));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/^learned/);
      expect(err.message).toMatch(message);
    }
  });
});

describe('status mapping', () => {
  const codes: CrlErrorCode[] = [
    'INVALID_ARGUMENT',
    'NOT_FOUND',
    'ALREADY_EXISTS',
    'FAILED_PRECONDITION',
    'ABORTED',
    'INTERNAL',
  ];

  it('maps every CrlError code one-to-one, and back', () => {
    const grpc = codes.map(grpcStatusOf);
    expect(new Set(grpc).size).toBe(codes.length);
    for (const c of codes) {
      expect(statusName(grpcStatusOf(c))).toBe(c);
      expect(crlCodeOf(grpcStatusOf(c))).toBe(c);
    }
  });

  it('turns a CrlError into its status with the located message', () => {
    const e = toServiceError(invalidArgument('must be > 0', { field: 'alpha' }));
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toBe('alpha: must be > 0');
  });

  it('turns anything else into INTERNAL with its message', () => {
    expect(toServiceError(new TypeError('boom'))).toMatchObject({ code: status.INTERNAL, details: 'boom' });
    expect(toServiceError('text')).toMatchObject({ code: status.INTERNAL, details: 'text' });
    const nodeErr = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(toServiceError(nodeErr)).toMatchObject({ code: status.INTERNAL, details: 'no such file' });
  });

  it('keeps the status of a gRPC error relayed from another call', () => {
    const relayed = Object.assign(new Error('5 NOT_FOUND: trial 7'), {
      code: status.NOT_FOUND,
      details: 'trial 7',
      metadata: new Metadata(),
    });
    expect(toServiceError(relayed)).toMatchObject({ code: status.NOT_FOUND, details: 'trial 7' });
  });

  it('gives clients a CrlError with the server details and the original as cause', () => {
    const se = Object.assign(new Error('3 INVALID_ARGUMENT: estimated: tensor is missing'), {
      code: status.INVALID_ARGUMENT,
      details: 'estimated: tensor is missing',
      metadata: new Metadata(),
    }) as ServiceError;
    const e = fromServiceError(se);
    expect(e).toBeInstanceOf(CrlError);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('estimated: tensor is missing');
    expect(e.cause).toBe(se);
  });

  it('folds transport statuses into the nearest CrlError code', () => {
    expect(crlCodeOf(status.UNAVAILABLE)).toBe('ABORTED');
    expect(crlCodeOf(status.DEADLINE_EXCEEDED)).toBe('ABORTED');
    expect(crlCodeOf(status.OUT_OF_RANGE)).toBe('INVALID_ARGUMENT');
    expect(crlCodeOf(status.UNKNOWN)).toBe('INTERNAL');
    expect(crlCodeOf(status.UNIMPLEMENTED)).toBe('INTERNAL');
  });
});
