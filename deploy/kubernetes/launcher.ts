/**
 * Trainer pods on demand. `TrainerLauncher` is what the coordinator's autoscaler drives (ensure N
 * trainers exist, let idle ones go); `KubernetesLauncher` does it with pods in one namespace:
 * it creates pods from `trainerPod` (deploy/kubernetes/pod.ts) until enough exist or are pending,
 * deletes a trainer's pod once it has been a release candidate for the grace period, and keeps a
 * list + watch of its pods (selected by label) so that counting is local and a pod that cannot be
 * scheduled, cannot pull its image or crash-loops is reported with Kubernetes' own reason.
 *
 * A trainer's id is its pod name (`--id $(POD_NAME)`), so registry ids and pod names are one.
 * Pods carry an owner reference to the coordinator pod: deleting the coordinator (uninstall,
 * rollout) garbage-collects its trainers, while a coordinator that restarts inside the same pod
 * finds its pods again by label at start and counts them.
 */
import {
  CoreV1Api,
  KubeConfig,
  Watch,
  type V1ObjectMeta,
  type V1Pod,
  type V1PodCondition,
  type V1ContainerStatus,
} from '@kubernetes/client-node';
import { CrlError, invalidArgument } from '../../common/errors.js';
import { labelSelector, selectorLabels, trainerPod, validateLabels, type TrainerPodConfig } from './pod.js';

export interface TrainerLauncher {
  /**
   * Creates trainers until `count` exist or are starting (never more than the launcher's maximum);
   * `labels` go on the pods this call creates. Never removes any: that is `release`.
   */
  ensure(count: number, labels?: Record<string, string>): Promise<void>;
  /**
   * The trainers that may go now: each is removed once it has been listed by every call for the
   * idle grace period. An id missing from a call is no longer a candidate (it got work, or is
   * gone), so callers pass the whole current set each time, and the marking takes effect
   * synchronously (before the returned promise settles). Ids of trainers the launcher did not
   * start are ignored.
   */
  release(idleTrainerIds: string[]): Promise<void>;
  /** Trainers that cannot start or keep crashing, with the reason Kubernetes gives. */
  problems(): LaunchProblem[];
  /** Stops watching and timers; leaves the trainers running (their owner reference collects them). */
  close(): Promise<void>;
}

export interface LaunchProblem {
  /** The pod, or the generateName prefix when creating a pod failed. */
  pod: string;
  /** Kubernetes' reason: Unschedulable, CrashLoopBackOff, ImagePullBackOff, ErrImagePull, OOMKilled, Evicted, or the API error's (Forbidden, ...). */
  reason: string;
  message: string;
  /** When the launcher first saw this problem (ms since epoch). */
  sinceMs: number;
}

export interface KubernetesLauncherConfig extends TrainerPodConfig {
  /** The most trainer pods this launcher keeps (ensure clamps to it). */
  maxTrainers: number;
  /** How long a trainer stays a release candidate before its pod is deleted. */
  idleGraceMs: number;
}

export interface KubernetesLauncherOptions {
  /** Default: console.error. One line per event (pod created, deleted, problem seen, watch restarted). */
  log?: (line: string) => void;
  /** Wait before listing and watching again after a watch ends or fails. Default 1000 ms. */
  rewatchMs?: number;
}

/** Container waiting reasons that mean the trainer will not come up by itself. */
const BAD_WAITING = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export class KubernetesLauncher implements TrainerLauncher {
  private readonly core: CoreV1Api;
  private readonly watcher: Watch;
  private readonly selector: string;
  private readonly log: (line: string) => void;
  private readonly rewatchMs: number;
  /** Our pods by name, as the last list and the watch since have them. */
  private readonly pods = new Map<string, V1Pod>();
  /** Pods we asked to delete, until the watch reports them gone. */
  private readonly deleting = new Set<string>();
  /** Release candidates: pod name → since when (ms). */
  private readonly candidates = new Map<string, number>();
  private readonly podProblems = new Map<string, LaunchProblem>();
  private createProblem: LaunchProblem | undefined;
  /** ensure calls run one after another, so that concurrent calls never overshoot. */
  private queue: Promise<void> = Promise.resolve();
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;
  private rewatchTimer: ReturnType<typeof setTimeout> | undefined;
  private watchAbort: AbortController | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    kc: KubeConfig,
    readonly config: KubernetesLauncherConfig,
    opts: KubernetesLauncherOptions,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.watcher = new Watch(kc);
    this.selector = labelSelector(selectorLabels(config));
    this.log = opts.log ?? ((line) => console.error(line));
    this.rewatchMs = opts.rewatchMs ?? 1000;
  }

  /** Validates the config, lists the pods already there and starts watching them. */
  static async start(
    kc: KubeConfig,
    config: KubernetesLauncherConfig,
    opts: KubernetesLauncherOptions = {},
  ): Promise<KubernetesLauncher> {
    validateConfig(config);
    if (kc.getCurrentCluster() === null) {
      throw invalidArgument('the kubeconfig names no current cluster', { field: 'kubeconfig' });
    }
    const launcher = new KubernetesLauncher(kc, config, opts);
    await launcher.sync();
    return launcher;
  }

  ensure(count: number, labels: Record<string, string> = {}): Promise<void> {
    if (!(Number.isInteger(count) && count >= 0)) {
      return Promise.reject(
        invalidArgument(`must be a non-negative integer, got ${count}`, { field: 'count' }),
      );
    }
    try {
      validateLabels(labels, 'labels');
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.queue.then(() => this.grow(Math.min(count, this.config.maxTrainers), labels));
    // The queue goes on after a failed call; the caller sees the failure.
    this.queue = run.catch(() => undefined);
    return this.track(run);
  }

  release(idleTrainerIds: string[]): Promise<void> {
    const now = Date.now();
    const listed = new Set(idleTrainerIds.filter((id) => this.pods.has(id) && !this.deleting.has(id)));
    for (const id of this.candidates.keys()) if (!listed.has(id)) this.candidates.delete(id);
    for (const id of listed) if (!this.candidates.has(id)) this.candidates.set(id, now);
    this.scheduleRelease();
    return Promise.resolve();
  }

  problems(): LaunchProblem[] {
    const list = [...this.podProblems.values()];
    if (this.createProblem !== undefined) list.push(this.createProblem);
    return list.sort((a, b) => a.pod.localeCompare(b.pod));
  }

  /** Names of the pods counted as trainers (not terminal, not being deleted). */
  activePods(): string[] {
    return [...this.pods.values()]
      .filter((p) => isActive(p) && !this.deleting.has(p.metadata!.name!))
      .map((p) => p.metadata!.name!)
      .sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.releaseTimer !== undefined) clearTimeout(this.releaseTimer);
    if (this.rewatchTimer !== undefined) clearTimeout(this.rewatchTimer);
    this.watchAbort?.abort();
    await Promise.allSettled([...this.pending]);
  }

  private async grow(target: number, labels: Record<string, string>): Promise<void> {
    if (this.closed) return;
    // Terminal pods (evicted, node lost) never run again under restartPolicy Always: remove them
    // so they are replaced.
    for (const pod of this.pods.values()) {
      const name = pod.metadata!.name!;
      if (isTerminal(pod) && !this.deleting.has(name)) {
        this.log(
          `launcher: removing trainer pod ${name}, ${pod.status?.phase}: ${pod.status?.reason ?? ''} ${pod.status?.message ?? ''}`.trimEnd(),
        );
        await this.deletePod(name);
      }
    }
    const missing = target - this.activePods().length;
    if (missing <= 0) return;
    const body = trainerPod(this.config, labels);
    const created = await Promise.allSettled(
      Array.from({ length: missing }, () =>
        this.core.createNamespacedPod({ namespace: this.config.namespace, body }),
      ),
    );
    let failure: unknown;
    for (const r of created) {
      if (r.status === 'fulfilled') {
        const name = r.value.metadata?.name;
        // The watch may have reported it already, with a newer state.
        if (name !== undefined && !this.pods.has(name)) this.pods.set(name, r.value);
        this.log(`launcher: created trainer pod ${name} in ${this.config.namespace}`);
      } else {
        failure ??= r.reason;
      }
    }
    if (failure === undefined) {
      this.createProblem = undefined;
      return;
    }
    const { code, reason, message } = apiError(failure);
    const prefix = this.config.namePrefix ?? 'crl-trainer-';
    if (this.createProblem?.reason !== reason || this.createProblem.message !== message) {
      this.createProblem = { pod: prefix, reason, message, sinceMs: Date.now() };
      this.log(`launcher: cannot create trainer pods in ${this.config.namespace}: ${reason}: ${message}`);
    }
    throw new CrlError(
      code >= 400 && code < 500 ? 'FAILED_PRECONDITION' : 'INTERNAL',
      `creating trainer pods (${prefix}*) in namespace ${this.config.namespace} failed: ${code} ${reason}: ${message}`,
      {},
      { cause: failure },
    );
  }

  private scheduleRelease(): void {
    if (this.releaseTimer !== undefined) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    if (this.closed || this.candidates.size === 0) return;
    const first = Math.min(...this.candidates.values());
    const wait = Math.max(0, first + this.config.idleGraceMs - Date.now());
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      const now = Date.now();
      for (const [id, since] of this.candidates) {
        if (now - since < this.config.idleGraceMs) continue;
        this.candidates.delete(id);
        this.log(`launcher: deleting trainer pod ${id}, idle for ${now - since} ms`);
        void this.track(this.deletePod(id));
      }
      this.scheduleRelease();
    }, wait);
    // Pending releases alone must not keep a process alive.
    this.releaseTimer.unref();
  }

  private async deletePod(name: string): Promise<void> {
    this.deleting.add(name);
    try {
      await this.core.deleteNamespacedPod({ name, namespace: this.config.namespace });
    } catch (err) {
      const { code, reason, message } = apiError(err);
      if (code === 404) {
        this.forget(name);
        return;
      }
      // Counted again, and a later release or ensure retries.
      this.deleting.delete(name);
      this.log(`launcher: cannot delete trainer pod ${name}: ${reason}: ${message}`);
    }
  }

  private forget(name: string): void {
    this.pods.delete(name);
    this.deleting.delete(name);
    this.candidates.delete(name);
    this.podProblems.delete(name);
  }

  /** List, then watch from the list's resourceVersion; on any end of the watch, again. */
  private async sync(): Promise<void> {
    const list = await this.core.listNamespacedPod({
      namespace: this.config.namespace,
      labelSelector: this.selector,
    });
    const seen = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (name === undefined) continue;
      seen.add(name);
      this.update(pod);
    }
    for (const name of [...this.pods.keys()]) if (!seen.has(name)) this.forget(name);
    if (this.closed) return;
    this.watchAbort = await this.watcher.watch(
      `/api/v1/namespaces/${encodeURIComponent(this.config.namespace)}/pods`,
      {
        labelSelector: this.selector,
        resourceVersion: list.metadata?.resourceVersion,
        allowWatchBookmarks: true,
        // The server ends the watch after this long and we list again: a connection that died
        // silently cannot leave the launcher blind for longer.
        timeoutSeconds: 300,
      },
      (type: string, obj: unknown) => this.onEvent(type, obj),
      (err: unknown) => this.onWatchEnd(err),
    );
  }

  private onEvent(type: string, obj: unknown): void {
    if (type === 'ERROR') {
      // Typically 410 Gone (our resourceVersion is too old): end this watch; onWatchEnd relists.
      const status = obj as { code?: number; message?: string };
      this.log(`launcher: pod watch error ${status.code ?? ''}: ${status.message ?? ''}`);
      this.watchAbort?.abort();
      return;
    }
    const pod = obj as V1Pod;
    const name = pod.metadata?.name;
    if (name === undefined || type === 'BOOKMARK') return;
    if (type === 'DELETED') this.forget(name);
    else this.update(pod);
  }

  private onWatchEnd(err: unknown): void {
    if (this.closed) return;
    if (err !== null && err !== undefined && (err as Error).name !== 'AbortError') {
      this.log(`launcher: pod watch ended: ${(err as Error).message ?? String(err)}; watching again`);
    }
    this.scheduleRewatch();
  }

  private scheduleRewatch(): void {
    if (this.closed || this.rewatchTimer !== undefined) return;
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = undefined;
      this.track(this.sync()).catch((err: unknown) => {
        const { reason, message } = apiError(err);
        this.log(`launcher: listing trainer pods failed: ${reason}: ${message}; retrying`);
        this.scheduleRewatch();
      });
    }, this.rewatchMs);
    this.rewatchTimer.unref();
  }

  private update(pod: V1Pod): void {
    const name = pod.metadata!.name!;
    this.pods.set(name, pod);
    const problem = diagnose(pod);
    if (problem === undefined) {
      this.podProblems.delete(name);
      return;
    }
    const old = this.podProblems.get(name);
    if (old?.reason === problem.reason) {
      // Same trouble, newer detail (restart count, back-off): keep when it started.
      this.podProblems.set(name, { pod: name, ...problem, sinceMs: old.sinceMs });
      return;
    }
    this.podProblems.set(name, { pod: name, ...problem, sinceMs: Date.now() });
    this.log(`launcher: trainer pod ${name}: ${problem.reason}: ${problem.message}`);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = (): void => void this.pending.delete(p);
    p.then(done, done);
    return p;
  }
}

/** Why a pod will not become a working trainer, or undefined while it is fine (or just starting). */
export function diagnose(pod: V1Pod): { reason: string; message: string } | undefined {
  const status = pod.status ?? {};
  if (status.phase === 'Failed') {
    return { reason: status.reason ?? 'Failed', message: status.message ?? 'the pod failed' };
  }
  const scheduled = (status.conditions ?? []).find((c: V1PodCondition) => c.type === 'PodScheduled');
  if (status.phase === 'Pending' && scheduled?.status === 'False') {
    return {
      reason: scheduled.reason ?? 'Unschedulable',
      message: scheduled.message ?? 'the scheduler found no node for it',
    };
  }
  for (const c of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
    const found = containerProblem(c);
    if (found !== undefined) return found;
  }
  return undefined;
}

function containerProblem(c: V1ContainerStatus): { reason: string; message: string } | undefined {
  const last = c.lastState?.terminated;
  const lastText =
    last === undefined
      ? ''
      : `; last exit: ${last.reason ?? 'terminated'} (exit code ${last.exitCode}${last.message ? `: ${last.message.trim()}` : ''})`;
  const waiting = c.state?.waiting;
  if (waiting?.reason !== undefined && BAD_WAITING.has(waiting.reason)) {
    return {
      reason: waiting.reason,
      message: `container ${c.name}: ${waiting.message ?? waiting.reason} (restarts: ${c.restartCount})${lastText}`,
    };
  }
  const now = c.state?.terminated;
  if (now?.reason === 'OOMKilled' || last?.reason === 'OOMKilled') {
    return {
      reason: 'OOMKilled',
      message: `container ${c.name} was killed for exceeding its memory limit (restarts: ${c.restartCount})`,
    };
  }
  return undefined;
}

function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

function isActive(pod: V1Pod): boolean {
  const meta: V1ObjectMeta = pod.metadata ?? {};
  return !isTerminal(pod) && meta.deletionTimestamp === undefined;
}

/** Code, reason and message of a client-node ApiException (its body is a Status), or any error. */
function apiError(err: unknown): { code: number; reason: string; message: string } {
  const e = err as { code?: unknown; body?: unknown; message?: string };
  const code = typeof e.code === 'number' ? e.code : 0;
  let body = e.body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // Not JSON: use the text.
      return { code, reason: code > 0 ? `HTTP ${code}` : 'Error', message: text };
    }
  }
  const status = (typeof body === 'object' && body !== null ? body : {}) as {
    reason?: string;
    message?: string;
  };
  return {
    code,
    reason: status.reason ?? (code > 0 ? `HTTP ${code}` : 'Error'),
    message: status.message ?? e.message ?? String(err),
  };
}

function validateConfig(c: KubernetesLauncherConfig): void {
  const nonEmpty = (v: string, field: string): void => {
    if (v.trim() === '') throw invalidArgument('must not be empty', { field });
  };
  nonEmpty(c.namespace, 'namespace');
  nonEmpty(c.image, 'image');
  nonEmpty(c.coordinatorAddress, 'coordinatorAddress');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(c.namespace) || c.namespace.length > 63) {
    throw invalidArgument(`${JSON.stringify(c.namespace)} is not a valid namespace name`, {
      field: 'namespace',
    });
  }
  if (!/^[^\s:]+:\d+$/.test(c.coordinatorAddress)) {
    throw invalidArgument(`must be host:port, got ${JSON.stringify(c.coordinatorAddress)}`, {
      field: 'coordinatorAddress',
    });
  }
  for (const [field, v, min] of [
    ['gpus', c.gpus, 0],
    ['maxTrainers', c.maxTrainers, 0],
    ['idleGraceMs', c.idleGraceMs, 0],
  ] as const) {
    if (!(Number.isInteger(v) && v >= min)) {
      throw invalidArgument(`must be an integer >= ${min}, got ${v}`, { field });
    }
  }
  if (c.namePrefix !== undefined && !/^[a-z0-9]([-a-z0-9]*)?$/.test(c.namePrefix)) {
    throw invalidArgument(`${JSON.stringify(c.namePrefix)} cannot start a pod name`, { field: 'namePrefix' });
  }
  validateLabels(c.labels ?? {}, 'labels');
}

/**
 * The API server to talk to: the kubeconfig file when given, else the pod's own service account
 * (KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA).
 */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file !== undefined) {
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw invalidArgument(`cannot read kubeconfig: ${(err as Error).message}`, { file }, err);
    }
    return kc;
  }
  if (process.env['KUBERNETES_SERVICE_HOST'] === undefined) {
    throw invalidArgument(
      'not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset): pass --kubeconfig',
      { field: '--kubeconfig' },
    );
  }
  kc.loadFromCluster();
  return kc;
}
