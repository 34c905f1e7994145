import {
  credentials,
  makeGenericClientConstructor,
  status,
  type Client,
  type ClientReadableStream,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrlError, invalidArgument } from '../../common/errors.js';
import { startGrpcServer, type RunningGrpcServer } from '../../common/rpc/server.js';
import { serverStreamHandler, unaryHandler } from '../../common/rpc/status.js';

/** A JSON-coded test service: Echo (unary) and Count (server streaming). */
interface Msg {
  text?: string;
  n?: number;
}
const json = {
  requestSerialize: (v: Msg): Buffer => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer): Msg => JSON.parse(b.toString()) as Msg,
  responseSerialize: (v: Msg): Buffer => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer): Msg => JSON.parse(b.toString()) as Msg,
};
const definition: ServiceDefinition = {
  echo: { path: '/test.Test/Echo', requestStream: false, responseStream: false, ...json },
  count: { path: '/test.Test/Count', requestStream: false, responseStream: true, ...json },
};

interface TestClient extends Client {
  echo(req: Msg, cb: (err: ServiceError | null, res: Msg) => void): void;
  count(req: Msg): ClientReadableStream<Msg>;
}
const TestClient = makeGenericClientConstructor(definition, 'test.Test') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => TestClient;

const implementation = {
  echo: unaryHandler<Msg, Msg>((req) => {
    if (req.text === 'bad') throw invalidArgument('must not be "bad"', { field: 'text' });
    if (req.text === 'crash') throw new TypeError('unexpected');
    if (req.text === 'reject') return Promise.reject(new CrlError('NOT_FOUND', 'no such thing'));
    return { text: req.text ?? '' };
  }),
  count: serverStreamHandler<Msg, Msg>(async (req, call) => {
    for (let i = 0; i < 3; i++) call.write({ n: i });
    if ((req.n ?? 0) < 0) throw new CrlError('FAILED_PRECONDITION', 'stopped after 3', { field: 'n' });
  }),
};

function echo(client: TestClient, text: string): Promise<Msg> {
  return new Promise((resolve, reject) =>
    client.echo({ text }, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

function collect(stream: ClientReadableStream<Msg>): Promise<{ got: number[]; error?: ServiceError }> {
  const got: number[] = [];
  return new Promise((resolve) => {
    stream.on('data', (m: Msg) => got.push(m.n ?? -1));
    stream.on('error', (error: ServiceError) => resolve({ got, error }));
    stream.on('end', () => resolve({ got }));
  });
}

describe('unaryHandler and serverStreamHandler over real gRPC', () => {
  let server: RunningGrpcServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startGrpcServer({ services: [{ definition, implementation }] });
    client = new TestClient(server.address, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it('binds a random loopback port', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
  });

  it('maps thrown and rejected errors to statuses, and keeps serving', async () => {
    const cases: Array<[string, status, string]> = [
      ['bad', status.INVALID_ARGUMENT, 'text: must not be "bad"'],
      ['crash', status.INTERNAL, 'unexpected'],
      ['reject', status.NOT_FOUND, 'no such thing'],
    ];
    for (const [text, code, details] of cases) {
      const err = (await echo(client, text).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(code);
      expect(err.details).toBe(details);
      expect(await echo(client, 'ok')).toEqual({ text: 'ok' });
    }
  });

  it('ends a stream with OK, or with the mapped status after the messages sent so far', async () => {
    expect(await collect(client.count({ n: 1 }))).toEqual({ got: [0, 1, 2] });
    const failed = await collect(client.count({ n: -1 }));
    expect(failed.got).toEqual([0, 1, 2]);
    expect(failed.error?.code).toBe(status.FAILED_PRECONDITION);
    expect(failed.error?.details).toBe('n: stopped after 3');
  });

  it('stops within the grace period even with a client still connected', async () => {
    const other = await startGrpcServer({ services: [{ definition, implementation }] });
    const c = new TestClient(other.address, credentials.createInsecure());
    expect(await echo(c, 'hi')).toEqual({ text: 'hi' });
    await other.stop(100);
    c.close();
  });

  it('fails clearly when the port is taken', async () => {
    const err = await startGrpcServer({ port: server.port, services: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrlError);
    expect((err as CrlError).code).toBe('FAILED_PRECONDITION');
  });
});
