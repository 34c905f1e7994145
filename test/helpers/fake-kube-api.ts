/**
 * A small Kubernetes API server on 127.0.0.1 for tests: no API server can run here, and the
 * launcher and kubectl need only pods. It serves discovery (/version, /api, /apis, /api/v1),
 * pods in namespaces (list with labelSelector, create with name or generateName, get, delete) and
 * watches (newline-delimited JSON events from a resourceVersion, kept open until the test closes
 * them). There is no scheduler and no kubelet: pods stay Pending until a test sets their status
 * with `setPodStatus`, which emits MODIFIED like the kubelet's status updates do.
 *
 * Deliberately strict where a real server is, so a client bug shows here: unknown JSON in a body,
 * a create without a name, a duplicate name, a missing pod and a wrong bearer token get the real
 * status codes and `Status` objects.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- pods are free-form JSON here
export type Pod = Record<string, any>;

export interface RequestRecord {
  method: string;
  /** Path and query, as sent. */
  url: string;
  accept: string | undefined;
  /** Whether it carried an Authorization header. */
  authorized: boolean;
}

export interface FakeKubeApiOptions {
  /** When set, every request must carry `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Pod;
  rv: number;
}

interface Watcher {
  namespace: string | undefined;
  matches: (labels: Record<string, string>) => boolean;
  res: ServerResponse;
}

const GIT_VERSION = 'v1.32.0-fake';

export class FakeKubeApi {
  /** Every request, in order (tests assert what a client asked for). */
  readonly requests: RequestRecord[] = [];
  private readonly pods = new Map<string, Pod>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly failures: Array<{ method: string; code: number; message: string }> = [];
  private rv = 1;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly opts: FakeKubeApiOptions,
  ) {}

  static async start(opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    // The handler needs the instance, which needs the listening server's port.
    const ref: { api?: FakeKubeApi } = {};
    const server = createServer((req, res) => {
      const api = ref.api!;
      api.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) api.status(res, 500, 'InternalError', (err as Error).message);
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    ref.api = new FakeKubeApi(server, (server.address() as AddressInfo).port, opts);
    return ref.api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Pods in a namespace (all namespaces when absent), by name. */
  list(namespace?: string): Pod[] {
    return [...this.pods.values()]
      .filter((p) => namespace === undefined || p['metadata'].namespace === namespace)
      .sort((a, b) => String(a['metadata'].name).localeCompare(String(b['metadata'].name)));
  }

  get(namespace: string, name: string): Pod | undefined {
    return this.pods.get(key(namespace, name));
  }

  /** Replaces the pod's status (what the kubelet and scheduler would write) and emits MODIFIED. */
  setPodStatus(namespace: string, name: string, status: Pod): Pod {
    const pod = this.pods.get(key(namespace, name));
    if (pod === undefined) throw new Error(`fake kube api: no pod ${namespace}/${name}`);
    pod['status'] = structuredClone(status);
    this.bump(pod);
    this.emit('MODIFIED', pod);
    return pod;
  }

  /** Creates a pod directly, as another client would (emits ADDED). */
  addPod(namespace: string, pod: Pod): Pod {
    return this.create(namespace, structuredClone(pod));
  }

  /** The next request with this method fails with `code` (a Status with `message`). */
  failNext(method: string, code: number, message: string): void {
    this.failures.push({ method: method.toUpperCase(), code, message });
  }

  /** Ends every open watch, as an API server does at its timeout or on restart. */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  async close(): Promise<void> {
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    this.requests.push({
      method,
      url: req.url ?? '',
      accept: req.headers.accept,
      authorized: req.headers.authorization !== undefined,
    });
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/\/+$/, '') || '/';

    if (this.opts.token !== undefined && req.headers.authorization !== `Bearer ${this.opts.token}`) {
      return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const failureAt = this.failures.findIndex((f) => f.method === method);
    if (failureAt >= 0) {
      const [f] = this.failures.splice(failureAt, 1);
      return this.status(res, f!.code, reasonFor(f!.code), f!.message);
    }

    if (method === 'GET' && path === '/version') {
      return json(res, 200, {
        major: '1',
        minor: '32',
        gitVersion: GIT_VERSION,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2025-01-01T00:00:00Z',
        goVersion: 'go1.23.0',
        compiler: 'gc',
        platform: 'linux/amd64',
      });
    }
    if (method === 'GET' && path === '/api') {
      // Plain (unaggregated) discovery: clients that ask for the aggregated form fall back to it.
      return json(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }],
      });
    }
    if (method === 'GET' && path === '/apis') {
      return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    }
    if (method === 'GET' && path === '/api/v1') {
      return json(res, 200, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          {
            name: 'pods',
            singularName: 'pod',
            namespaced: true,
            kind: 'Pod',
            verbs: ['create', 'delete', 'get', 'list', 'watch'],
            shortNames: ['po'],
            categories: ['all'],
          },
          { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
        ],
      });
    }

    let m = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/pods$/.exec(path);
    if (m !== null) {
      const namespace = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
      if (method === 'GET') return this.listOrWatch(res, namespace, url.searchParams);
      if (method === 'POST' && namespace !== undefined) {
        const body = await readJson(req);
        if (body === undefined || (body['kind'] !== undefined && body['kind'] !== 'Pod')) {
          return this.status(res, 400, 'BadRequest', 'the body must be a Pod object');
        }
        const meta = (body['metadata'] ?? {}) as Pod;
        if (meta['namespace'] !== undefined && meta['namespace'] !== namespace) {
          return this.status(
            res,
            400,
            'BadRequest',
            `the namespace of the provided object does not match the namespace sent on the request`,
          );
        }
        if (typeof meta['name'] !== 'string' && typeof meta['generateName'] !== 'string') {
          return this.status(res, 422, 'Invalid', 'Pod "" is invalid: metadata.name: Required value');
        }
        if (typeof meta['name'] === 'string' && this.pods.has(key(namespace, meta['name']))) {
          return this.status(res, 409, 'AlreadyExists', `pods "${meta['name']}" already exists`);
        }
        if (!Array.isArray(body['spec']?.containers) || body['spec'].containers.length === 0) {
          return this.status(res, 422, 'Invalid', 'spec.containers: Required value');
        }
        return json(res, 201, this.create(namespace, body));
      }
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
    if (m !== null) {
      const namespace = decodeURIComponent(m[1]!);
      const name = decodeURIComponent(m[2]!);
      const pod = this.pods.get(key(namespace, name));
      if (pod === undefined) return this.status(res, 404, 'NotFound', `pods "${name}" not found`);
      if (method === 'GET') return json(res, 200, pod);
      if (method === 'DELETE') {
        // Deleted at once (no kubelet to wait for): the response and the DELETED event carry the
        // last state, as a real server's do once graceful deletion is over.
        this.pods.delete(key(namespace, name));
        this.bump(pod);
        this.emit('DELETED', pod);
        return json(res, 200, pod);
      }
    }
    return this.status(res, 404, 'NotFound', `the server could not find the requested resource`);
  }

  private listOrWatch(res: ServerResponse, namespace: string | undefined, q: URLSearchParams): void {
    let matches: (labels: Record<string, string>) => boolean;
    try {
      matches = parseSelector(q.get('labelSelector') ?? '');
    } catch (err) {
      return this.status(res, 400, 'BadRequest', (err as Error).message);
    }
    const inScope = (p: Pod): boolean =>
      (namespace === undefined || p['metadata'].namespace === namespace) &&
      matches((p['metadata'].labels ?? {}) as Record<string, string>);

    const watch = q.get('watch');
    if (watch === 'true' || watch === '1') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const from = Number(q.get('resourceVersion') ?? '0');
      if (from > 0) {
        for (const e of this.history) if (e.rv > from && inScope(e.object)) writeEvent(res, e.type, e.object);
      } else {
        // No resourceVersion: the current state as ADDED events, then changes.
        for (const p of this.pods.values()) if (inScope(p)) writeEvent(res, 'ADDED', p);
      }
      const w: Watcher = { namespace, matches, res };
      this.watchers.add(w);
      res.on('close', () => this.watchers.delete(w));
      return;
    }
    const items = this.list(namespace).filter(inScope);
    json(res, 200, {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(this.rv) },
      items,
    });
  }

  private create(namespace: string, body: Pod): Pod {
    const meta = (body['metadata'] ?? {}) as Pod;
    let name = meta['name'] as string | undefined;
    while (name === undefined || this.pods.has(key(namespace, name))) {
      // Five characters from the API server's alphabet (no vowels, no 0/1/3).
      const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
      name = `${meta['generateName'] as string}${[...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('')}`;
    }
    const pod: Pod = {
      ...body,
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...meta,
        name,
        namespace,
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      status: { phase: 'Pending', qosClass: 'Burstable' },
    };
    this.pods.set(key(namespace, name), pod);
    this.bump(pod);
    this.emit('ADDED', pod);
    return pod;
  }

  private bump(pod: Pod): void {
    this.rv++;
    pod['metadata'].resourceVersion = String(this.rv);
  }

  private emit(type: WatchEvent['type'], pod: Pod): void {
    const object = structuredClone(pod);
    this.history.push({ type, object, rv: this.rv });
    for (const w of this.watchers) {
      if (
        (w.namespace === undefined || object['metadata'].namespace === w.namespace) &&
        w.matches((object['metadata'].labels ?? {}) as Record<string, string>)
      ) {
        writeEvent(w.res, type, object);
      }
    }
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    json(res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    });
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function reasonFor(code: number): string {
  return (
    { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict' }[code] ??
    'InternalError'
  );
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function writeEvent(res: ServerResponse, type: string, object: Pod): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

async function readJson(req: IncomingMessage): Promise<Pod | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Pod) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Label selectors as the API server reads them: comma-separated `k=v`, `k==v`, `k!=v`, `k`, `!k`,
 * `k in (a,b)`, `k notin (a,b)`; all must hold.
 */
export function parseSelector(selector: string): (labels: Record<string, string>) => boolean {
  const terms: Array<(l: Record<string, string>) => boolean> = [];
  // Commas inside `in (...)` belong to the set, not to the list of requirements.
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= selector.length; i++) {
    const ch = selector[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if ((ch === ',' && depth === 0) || ch === undefined) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  for (const raw of parts) {
    const t = raw.trim();
    if (t === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t)) !== null) {
      const [, k, op, list] = m as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((v) => v.trim()));
      terms.push(op === 'in' ? (l) => values.has(l[k] ?? '\0') : (l) => !values.has(l[k] ?? '\0'));
    } else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(t)) !== null) {
      const [, k, op, v] = m as unknown as [string, string, string, string];
      terms.push(op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v);
    } else if ((m = /^!([\w./-]+)$/.exec(t)) !== null) {
      const k = m[1]!;
      terms.push((l) => !(k in l));
    } else if ((m = /^([\w./-]+)$/.exec(t)) !== null) {
      const k = m[1]!;
      terms.push((l) => k in l);
    } else {
      throw new Error(`unable to parse requirement: ${JSON.stringify(t)}`);
    }
  }
  return (labels) => terms.every((f) => f(labels));
}
