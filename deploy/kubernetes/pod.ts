/**
 * The trainer pod the Kubernetes launcher creates: the same container as the Helm chart's trainer
 * StatefulSet (helm/crl-cluster/templates/trainer.yaml): `crl serve trainer` with the pod name as
 * trainer id and the pod IP as the address the coordinator dials, GPUs in limits, gRPC probes on
 * crl.v1.TrainerService, the chart's restricted security contexts and a writable /tmp. Pure: the
 * launcher and the tests build pods through it.
 */
import type {
  V1Affinity,
  V1Container,
  V1EnvVar,
  V1OwnerReference,
  V1Pod,
  V1PodSecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { invalidArgument } from '../../common/errors.js';

/** What identifies a pod as a trainer this coordinator launched (the watch and list select by it). */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'crl-coordinator';
/** Labels the caller of `ensure` may set on new pods, to tell which study asked for them. */
export const STUDY_LABEL = 'crl-cluster.io/study';
export const TRIAL_LABEL = 'crl-cluster.io/trial';
export const MODALITY_LABEL = 'crl-cluster.io/modality';

export interface TrainerPodConfig {
  namespace: string;
  /** The trainer image (deploy/docker/Dockerfile.trainer; entrypoint `node bin/crl.js serve`). */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets?: string[];
  /** host:port trainers register at (the coordinator's Service, or its pod IP). */
  coordinatorAddress: string;
  /** Trainers learn the NATS URL at registration; this only mirrors the chart's CRL_NATS_URL env. */
  natsUrl?: string;
  /** `crl serve trainer --backend`. Default auto. */
  backend?: string;
  /** Default 7071, 9090: the chart's ports. */
  port?: number;
  metricsPort?: number;
  /** GPUs per pod, as limits[gpuResourceName]; 0 asks for none. */
  gpus: number;
  /** Default nvidia.com/gpu. */
  gpuResourceName?: string;
  /** CPU and memory; GPUs are added to limits from `gpus`. */
  resources?: V1ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  priorityClassName?: string;
  affinity?: V1Affinity;
  /** E.g. a shared dataset volume every trainer reads (the chart's trainer.extraVolumes). */
  extraVolumes?: V1Volume[];
  extraVolumeMounts?: V1VolumeMount[];
  /** The coordinator's pod: trainer pods are garbage-collected with it. */
  ownerReference?: { name: string; uid: string };
  /** Extra labels on every trainer pod; part of the selector the launcher counts pods by. */
  labels?: Record<string, string>;
  /** Pod names are this prefix plus five random characters (generateName). Default crl-trainer-. */
  namePrefix?: string;
  /** A ConfigMap every trainer takes as env (the chart's `<release>-config`), when set. */
  configMapName?: string;
  /** Default: the chart's values (uid 1000, non-root, RuntimeDefault seccomp; no privileges). */
  podSecurityContext?: V1PodSecurityContext;
  containerSecurityContext?: V1SecurityContext;
}

export const DEFAULT_POD_SECURITY_CONTEXT: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  fsGroup: 1000,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const DEFAULT_CONTAINER_SECURITY_CONTEXT: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** The labels a launched trainer carries and the launcher selects by (extra labels included). */
export function selectorLabels(config: Pick<TrainerPodConfig, 'labels'>): Record<string, string> {
  return {
    ...config.labels,
    [COMPONENT_LABEL]: 'trainer',
    [MANAGED_BY_LABEL]: MANAGED_BY,
  };
}

export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Throws INVALID_ARGUMENT, naming `field`, for a label Kubernetes would reject. */
export function validateLabels(labels: Record<string, string>, field: string): void {
  const name = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
  const prefix = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf('/');
    const [p, n] = slash < 0 ? [undefined, k] : [k.slice(0, slash), k.slice(slash + 1)];
    if (!name.test(n) || (p !== undefined && (p.length > 253 || !prefix.test(p)))) {
      throw invalidArgument(`${JSON.stringify(k)} is not a valid label key`, { field });
    }
    if (v !== '' && !name.test(v)) {
      throw invalidArgument(
        `label ${k}: ${JSON.stringify(v)} is not a valid label value (at most 63 of [A-Za-z0-9._-], alphanumeric at both ends)`,
        { field },
      );
    }
  }
}

/** The pod to create: generateName, so Kubernetes picks a fresh name (the trainer id). */
export function trainerPod(config: TrainerPodConfig, extraLabels: Record<string, string> = {}): V1Pod {
  const port = config.port ?? 7071;
  const metricsPort = config.metricsPort ?? 9090;
  const resources: V1ResourceRequirements = structuredClone(config.resources ?? {});
  if (config.gpus > 0) {
    // Extended resources go in limits; Kubernetes sets the request equal to it.
    resources.limits = {
      ...resources.limits,
      [config.gpuResourceName ?? 'nvidia.com/gpu']: String(config.gpus),
    };
  }
  const env: V1EnvVar[] = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    // The root filesystem is read-only; tsx's compile cache and scratch files go to the /tmp emptyDir.
    { name: 'TMPDIR', value: '/tmp' },
    { name: 'NODE_ENV', value: 'production' },
  ];
  if (config.natsUrl !== undefined) env.push({ name: 'CRL_NATS_URL', value: config.natsUrl });
  const probe = (periodSeconds: number, failureThreshold: number, timeoutSeconds: number): V1Probe => ({
    grpc: { port, service: 'crl.v1.TrainerService' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds,
  });
  const container: V1Container = {
    name: 'trainer',
    image: config.image,
    imagePullPolicy: config.imagePullPolicy ?? 'IfNotPresent',
    // The image's entrypoint is `node bin/crl.js serve`. The pod name is the trainer id; $(VAR) is
    // expanded by the kubelet from env.
    args: [
      'trainer',
      '--host',
      '0.0.0.0',
      '--port',
      String(port),
      '--coordinator',
      config.coordinatorAddress,
      '--id',
      '$(POD_NAME)',
      '--advertise',
      `$(POD_IP):${port}`,
      '--backend',
      config.backend ?? 'auto',
      '--metrics-port',
      String(metricsPort),
    ],
    env,
    ...(config.configMapName === undefined
      ? {}
      : { envFrom: [{ configMapRef: { name: config.configMapName } }] }),
    ports: [
      { name: 'grpc', containerPort: port },
      { name: 'metrics', containerPort: metricsPort },
    ],
    // The chart's probe timings (values.yaml `probes`): tsx compiles the sources at start.
    startupProbe: probe(2, 30, 2),
    readinessProbe: probe(5, 3, 2),
    livenessProbe: probe(10, 6, 5),
    resources,
    securityContext: config.containerSecurityContext ?? DEFAULT_CONTAINER_SECURITY_CONTEXT,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...(config.extraVolumeMounts ?? [])],
  };
  const owner: V1OwnerReference[] =
    config.ownerReference === undefined
      ? []
      : [
          {
            apiVersion: 'v1',
            kind: 'Pod',
            name: config.ownerReference.name,
            uid: config.ownerReference.uid,
            // controller: no workload controller (the chart's StatefulSet shares our selector
            // labels) may adopt and then scale away these pods. blockOwnerDeletion would need
            // update on the coordinator pod's finalizers, which the launcher Role does not grant.
            controller: true,
            blockOwnerDeletion: false,
          },
        ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: config.namePrefix ?? 'crl-trainer-',
      namespace: config.namespace,
      labels: { 'app.kubernetes.io/part-of': 'crl-cluster', ...extraLabels, ...selectorLabels(config) },
      ...(owner.length === 0 ? {} : { ownerReferences: owner }),
    },
    spec: {
      // Always: a crashed trainer restarts in place under the same pod name, i.e. the same trainer
      // id, and registers again once the coordinator has declared the old process dead; a broken
      // image or config then shows as CrashLoopBackOff (reported) instead of the launcher
      // replacing failed pods in a tight loop. The launcher stops trainers by deleting pods.
      restartPolicy: 'Always',
      // Trainers never call the API server.
      automountServiceAccountToken: false,
      // Trainers stop cleanly on SIGTERM within seconds (gRPC server, NATS connection).
      terminationGracePeriodSeconds: 30,
      securityContext: config.podSecurityContext ?? DEFAULT_POD_SECURITY_CONTEXT,
      ...(config.imagePullSecrets === undefined || config.imagePullSecrets.length === 0
        ? {}
        : { imagePullSecrets: config.imagePullSecrets.map((name) => ({ name })) }),
      ...(config.nodeSelector === undefined || Object.keys(config.nodeSelector).length === 0
        ? {}
        : { nodeSelector: config.nodeSelector }),
      ...(config.tolerations === undefined || config.tolerations.length === 0
        ? {}
        : { tolerations: config.tolerations }),
      ...(config.priorityClassName === undefined || config.priorityClassName === ''
        ? {}
        : { priorityClassName: config.priorityClassName }),
      ...(config.affinity === undefined || Object.keys(config.affinity).length === 0
        ? {}
        : { affinity: config.affinity }),
      containers: [container],
      volumes: [{ name: 'tmp', emptyDir: {} }, ...(config.extraVolumes ?? [])],
    },
  };
}
