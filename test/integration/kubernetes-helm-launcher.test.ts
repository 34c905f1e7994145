/**
 * The Helm chart in launcher mode (`launcher.enabled=true`), end to end without a cluster: the
 * real helm renders it, the coordinator's args (with $(VAR) expanded from the ConfigMap and the
 * downward API) go through the real `crl serve coordinator` option parser, and the launcher they
 * build creates trainer pods on the fake API server. Those pods must be what the chart's trainer
 * StatefulSet would have run: selected by the chart's trainer Service, the same `crl serve trainer`
 * args, ConfigMap, GPUs, scheduling and volumes, and owned by the coordinator pod.
 */
import { spawnSync } from 'node:child_process';
import { layerBinary } from '../helpers/layer-binaries.js';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { KubeConfig } from '@kubernetes/client-node';
import { Pod as PodModel } from 'kubernetes-models/v1/Pod';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerServeCommands } from '../../cli/commands/serve.js';
import { launcherFromFlags, type LauncherFlags } from '../../deploy/kubernetes/cli.js';
import type { KubernetesLauncher } from '../../deploy/kubernetes/launcher.js';
import { FakeKubeApi } from '../helpers/fake-kube-api.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHART = join(ROOT, 'helm', 'crl-cluster');
const RELEASE = 'rel';
const NAMESPACE = 'crl';
const BASE = `${RELEASE}-crl-cluster`;

function helmBinary(): string {
  return layerBinary('helm');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects are free-form
type Obj = Record<string, any>;

let helmPath: string;
function helm(...args: string[]): { status: number | null; stdout: string; output: string } {
  const r = spawnSync(helmPath, args, {
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: join(ROOT, 'node_modules', '.cache', 'crl-deploy', 'helm-home'),
      KUBECONFIG: '/dev/null',
    },
  });
  return { status: r.status, stdout: r.stdout, output: `${r.stdout}${r.stderr}` };
}

function render(...sets: string[]): Obj[] {
  const r = helm('template', RELEASE, CHART, '--namespace', NAMESPACE, ...sets.flatMap((s) => ['--set', s]));
  expect(r.status, r.output).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function find(objs: Obj[], kind: string, name: string): Obj {
  const o = objs.find((x) => x['kind'] === kind && x['metadata'].name === name);
  if (o === undefined) throw new Error(`no ${kind} ${name}`);
  return o;
}

/** $(VAR) in args, expanded as the kubelet does from env values and envFrom ConfigMaps. */
function expand(objs: Obj[], c: Obj, args: string[], vars: Record<string, string>): string[] {
  const all: Record<string, string> = { ...vars };
  for (const from of c['envFrom'] ?? [])
    Object.assign(all, find(objs, 'ConfigMap', from.configMapRef.name).data);
  for (const e of c['env'] ?? []) if (e.value !== undefined) all[e.name] = e.value;
  return args.map((a) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, v: string) => {
      const value = all[v];
      if (value === undefined) throw new Error(`$(${v}) is defined nowhere`);
      return value;
    }),
  );
}

const LAUNCHER_SETS = [
  'launcher.enabled=true',
  'launcher.maxTrainers=6',
  'launcher.idleGraceMs=60000',
  'trainer.gpu.count=2',
  'trainer.nodeSelector.nvidia\\.com/gpu\\.product=NVIDIA-H200',
  'trainer.priorityClassName=training-high',
  'trainer.extraVolumes[0].name=data',
  'trainer.extraVolumes[0].persistentVolumeClaim.claimName=datasets',
  'trainer.extraVolumeMounts[0].name=data',
  'trainer.extraVolumeMounts[0].mountPath=/data',
  'imagePullSecrets[0].name=regcred',
];

beforeAll(() => {
  helmPath = helmBinary();
});

describe('helm chart with launcher.enabled', () => {
  it('lints, also --strict, and the schema rejects bad launcher values', () => {
    for (const strict of [[], ['--strict']]) {
      const r = helm('lint', CHART, ...strict, ...LAUNCHER_SETS.flatMap((s) => ['--set', s]));
      expect(r.status, r.output).toBe(0);
    }
    const bad = helm('template', RELEASE, CHART, '--set', 'launcher.maxTrainers=-1');
    expect(bad.status).not.toBe(0);
    expect(bad.output).toContain('launcher.maxTrainers: Must be greater than or equal to 0');
    const unknown = helm('template', RELEASE, CHART, '--set', 'launcher.max=1');
    expect(unknown.status).not.toBe(0);
    expect(unknown.output).toContain('Additional property max is not allowed');
  });

  it('renders no trainer StatefulSet but keeps the trainer Service; default values keep the StatefulSet', () => {
    const objs = render(...LAUNCHER_SETS);
    expect(objs.some((o) => o['kind'] === 'StatefulSet' && o['metadata'].name === `${BASE}-trainer`)).toBe(
      false,
    );
    expect(find(objs, 'Service', `${BASE}-trainer`)['spec'].clusterIP).toBe('None');
    expect(
      render().some((o) => o['kind'] === 'StatefulSet' && o['metadata'].name === `${BASE}-trainer`),
    ).toBe(true);
  });

  describe('the coordinator it renders launches the trainers the StatefulSet would have run', () => {
    let api: FakeKubeApi;
    let launcher: KubernetesLauncher | undefined;
    let objs: Obj[];
    const POD = {
      POD_NAME: `${BASE}-coordinator-5c9d-x2x7q`,
      POD_UID: '0f5e1c7a-3d1b-4c55-8f0e-2b9a7d6c4e31',
    };
    beforeAll(async () => {
      api = await FakeKubeApi.start();
      objs = render(...LAUNCHER_SETS);
    });
    afterAll(async () => {
      await launcher?.close();
      await api.close();
    });

    it('passes flags `crl serve coordinator` parses into a launcher that creates matching pods', async () => {
      const deploy = find(objs, 'Deployment', `${BASE}-coordinator`);
      const c = deploy['spec'].template.spec.containers[0];
      // The downward API gives the coordinator its pod's name, IP and uid.
      expect(c.env.find((e: Obj) => e.name === 'POD_UID')?.valueFrom.fieldRef.fieldPath).toBe('metadata.uid');
      const args = expand(objs, c, c.args, { ...POD, POD_IP: '10.0.0.5' });
      expect(args[0]).toBe('coordinator');

      // The real option parser of `crl serve coordinator` (its action is never run).
      const program = new Command('crl').exitOverride();
      registerServeCommands(program);
      const cmd = program.commands
        .find((x) => x.name() === 'serve')!
        .commands.find((x) => x.name() === 'coordinator')!;
      const parsed = cmd.parseOptions(args.slice(1));
      expect(parsed).toEqual({ operands: [], unknown: [] });
      const flags = cmd.opts<LauncherFlags & { port: number; nats: string }>();
      expect(flags).toMatchObject({
        launcher: 'kubernetes',
        namespace: NAMESPACE,
        trainerImage: 'ghcr.io/crl-cluster/crl-trainer:0.1.0',
        advertise: `${BASE}-coordinator:7070`,
        gpus: 2,
        maxTrainers: 6,
        idleGraceMs: 60000,
      });

      // In the pod the service account is used; here a kubeconfig points at the fake.
      const dir = tempDir('crl-helm-launcher-');
      const kc = new KubeConfig();
      kc.loadFromClusterAndUser(
        { name: 'fake', server: api.url, skipTLSVerify: true },
        { name: 'sa', token: 't' },
      );
      writeFileSync(join(dir, 'kubeconfig'), kc.exportConfig());
      const saved = { ...process.env };
      Object.assign(process.env, POD);
      try {
        launcher = await launcherFromFlags(
          { ...flags, kubeconfig: join(dir, 'kubeconfig') },
          { port: flags.port, natsUrl: flags.nats, log: () => undefined },
        );
      } finally {
        for (const k of Object.keys(POD)) if (saved[k] === undefined) delete process.env[k];
      }
      await launcher!.ensure(2);
      const pods = api.list(NAMESPACE);
      expect(pods).toHaveLength(2);

      const svc = find(objs, 'Service', `${BASE}-trainer`);
      for (const pod of pods) {
        expect(() => new PodModel(pod as never).validate()).not.toThrow();
        const labels = pod['metadata'].labels as Record<string, string>;
        // The chart's headless trainer Service (and the ServiceMonitor / Prometheus job behind
        // it) selects the launched pods.
        for (const [k, v] of Object.entries(svc['spec'].selector as Record<string, string>)) {
          expect(labels[k], k).toBe(v);
        }
        expect(labels['app.kubernetes.io/part-of']).toBe('crl-cluster');
        expect(pod['metadata'].ownerReferences).toEqual([
          expect.objectContaining({ kind: 'Pod', name: POD.POD_NAME, uid: POD.POD_UID, controller: true }),
        ]);
        const spec = pod['spec'];
        const tc = spec.containers[0];
        // Exactly the args the chart's StatefulSet passes, once the kubelet has expanded them.
        expect(expand(objs, tc, tc.args, { POD_NAME: pod['metadata'].name, POD_IP: '10.0.0.7' })).toEqual([
          'trainer',
          '--host',
          '0.0.0.0',
          '--port',
          '7071',
          '--coordinator',
          `${BASE}-coordinator:7070`,
          '--id',
          pod['metadata'].name,
          '--advertise',
          '10.0.0.7:7071',
          '--backend',
          'auto',
          '--metrics-port',
          '9090',
        ]);
        expect(tc.envFrom).toEqual([{ configMapRef: { name: `${BASE}-config` } }]);
        expect(tc.resources).toEqual({
          requests: { cpu: '2', memory: '8Gi' },
          limits: { memory: '16Gi', 'nvidia.com/gpu': '2' },
        });
        expect(tc.volumeMounts).toEqual([
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'data', mountPath: '/data' },
        ]);
        expect(spec.volumes).toEqual([
          { name: 'tmp', emptyDir: {} },
          { name: 'data', persistentVolumeClaim: { claimName: 'datasets' } },
        ]);
        expect(spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H200' });
        expect(spec.tolerations).toEqual([
          { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
        ]);
        expect(spec.priorityClassName).toBe('training-high');
        expect(spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
        expect(spec.securityContext).toEqual(
          find(objs, 'Deployment', `${BASE}-coordinator`)['spec'].template.spec.securityContext,
        );
        expect(tc.securityContext).toEqual(c.securityContext);
      }
    });
  });
});
