/**
 * `crl serve coordinator --launcher kubernetes ...`: the flags that build a KubernetesLauncher, and
 * building it. Kept here so that cli/commands/serve.ts only adds the flags and passes the result.
 *
 * Scheduling settings that are structures (resources, nodeSelector, tolerations, labels) come as
 * one JSON object, `--launcher-config`, which the Helm chart renders from its trainer values.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { invalidArgument } from '../../common/errors.js';
import { choiceFlag, integerFlag } from '../../cli/options.js';
import { KubernetesLauncher, loadKubeConfig } from './launcher.js';

export const LAUNCHER_CHOICES = ['none', 'kubernetes'] as const;

export interface LauncherFlags {
  launcher: (typeof LAUNCHER_CHOICES)[number];
  namespace?: string;
  trainerImage?: string;
  kubeconfig?: string;
  gpus: number;
  maxTrainers: number;
  idleGraceMs: number;
  advertise?: string;
  launcherConfig?: string;
}

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const toleration = z
  .object({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute', '']).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict();
const quantities = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));

/** What `--launcher-config` may hold; anything else is an error, not silently ignored. */
const launcherConfigSchema = z
  .object({
    resources: z
      .object({ requests: quantities.optional(), limits: quantities.optional() })
      .strict()
      .optional(),
    nodeSelector: z.record(z.string(), z.string()).optional(),
    tolerations: z.array(toleration).optional(),
    priorityClassName: z.string().optional(),
    // Passed through as Kubernetes objects; the API server validates them when a pod is created.
    affinity: z.record(z.string(), z.unknown()).optional(),
    extraVolumes: z.array(z.object({ name: z.string() }).passthrough()).optional(),
    extraVolumeMounts: z
      .array(z.object({ name: z.string(), mountPath: z.string() }).passthrough())
      .optional(),
    labels: z.record(z.string(), z.string()).optional(),
    gpuResourceName: z.string().min(1).optional(),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    imagePullSecrets: z.array(z.string()).optional(),
    backend: z.string().min(1).optional(),
    configMapName: z.string().min(1).optional(),
    namePrefix: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    metricsPort: z.number().int().min(1).max(65535).optional(),
  })
  .strict();

export function addLauncherFlags(c: Command): Command {
  return c
    .option(
      '--launcher <kind>',
      `start trainers on demand: ${LAUNCHER_CHOICES.join(', ')}`,
      choiceFlag('--launcher', LAUNCHER_CHOICES),
      'none',
    )
    .option('--namespace <ns>', 'namespace of the trainer pods (default: the pod’s own)')
    .option('--trainer-image <image>', 'trainer image (deploy/docker/Dockerfile.trainer)')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: in-cluster service account)')
    .option('--gpus <n>', 'GPUs per trainer pod (limits)', integerFlag('--gpus', { min: 0 }), 1)
    .option('--max-trainers <n>', 'most trainer pods at once', integerFlag('--max-trainers', { min: 0 }), 8)
    .option(
      '--idle-grace-ms <ms>',
      'how long an unneeded idle trainer stays before its pod is deleted',
      integerFlag('--idle-grace-ms', { min: 0 }),
      300_000,
    )
    .option('--advertise <addr>', 'host:port trainers reach the coordinator at (default: $POD_IP:port)')
    .option(
      '--launcher-config <json>',
      'trainer pod settings as JSON: resources, nodeSelector, tolerations, priorityClassName, labels, ...',
    );
}

/**
 * The launcher the flags ask for, started (pods listed and watched), or undefined for none.
 * `port` is the coordinator's gRPC port, for the default advertised address.
 */
export async function launcherFromFlags(
  f: LauncherFlags,
  ctx: { port: number; natsUrl?: string; log?: (line: string) => void },
): Promise<KubernetesLauncher | undefined> {
  if (f.launcher === 'none') return undefined;
  const env = process.env;
  const namespace =
    f.namespace ?? (existsSync(SA_NAMESPACE) ? readFileSync(SA_NAMESPACE, 'utf8').trim() : undefined);
  if (namespace === undefined) {
    throw invalidArgument('required with --launcher kubernetes outside a pod', { field: '--namespace' });
  }
  if (f.trainerImage === undefined) {
    throw invalidArgument('required with --launcher kubernetes', { field: '--trainer-image' });
  }
  const advertise = f.advertise ?? (env['POD_IP'] === undefined ? undefined : `${env['POD_IP']}:${ctx.port}`);
  if (f.advertise === undefined && ctx.port === 0) {
    throw invalidArgument('required with --launcher kubernetes and --port 0', { field: '--advertise' });
  }
  if (advertise === undefined) {
    throw invalidArgument('required with --launcher kubernetes when POD_IP is not set', {
      field: '--advertise',
    });
  }
  let extra: z.infer<typeof launcherConfigSchema> = {};
  if (f.launcherConfig !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(f.launcherConfig);
    } catch (err) {
      throw invalidArgument(`not JSON: ${(err as Error).message}`, { field: '--launcher-config' });
    }
    const parsed = launcherConfigSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidArgument(`${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`, {
        field: '--launcher-config',
      });
    }
    extra = parsed.data;
  }
  // The downward API gives the coordinator its own pod name and uid; outside a pod there is no
  // owner, and the trainer pods outlive the coordinator until deleted.
  const podName = env['POD_NAME'];
  const podUid = env['POD_UID'];
  const ownerReference = podName && podUid ? { name: podName, uid: podUid } : undefined;
  const log = ctx.log ?? ((line: string): void => console.error(line));
  if (ownerReference === undefined) {
    log(
      'launcher: POD_NAME/POD_UID not set: trainer pods get no owner and are not collected with the coordinator',
    );
  }
  return KubernetesLauncher.start(
    loadKubeConfig(f.kubeconfig),
    {
      ...extra,
      namespace,
      image: f.trainerImage,
      coordinatorAddress: advertise,
      ...(ctx.natsUrl === undefined ? {} : { natsUrl: ctx.natsUrl }),
      gpus: f.gpus,
      maxTrainers: f.maxTrainers,
      idleGraceMs: f.idleGraceMs,
      ...(ownerReference === undefined ? {} : { ownerReference }),
    },
    { log },
  );
}
