/**
 * Connects a TrainerLauncher to the coordinator's trainer registry: every `intervalMs` and on every
 * registry change it asks for min(maxTrainers, demand()) trainers, and offers the idle trainers
 * beyond that demand for release (the launcher deletes them after its grace period, and forgets a
 * candidate as soon as a later pass no longer lists it, e.g. because a trial claimed it).
 *
 * `demand` is how many trainers the work in hand needs. The default, the number registered now,
 * means neither growth nor shrinkage: the launcher only replaces pods it loses.
 */
import type { TrainerRegistry } from '../../coordinator/registry.js';
import type { TrainerLauncher } from './launcher.js';

export interface TrainerAutoscalerOptions {
  registry: TrainerRegistry;
  launcher: TrainerLauncher;
  /** Trainers needed now. Default: the number registered. */
  demand?: () => number;
  /** Default: no limit beyond the launcher's own. */
  maxTrainers?: number;
  /** Default 2000 ms. */
  intervalMs?: number;
  /** Default: console.error. */
  log?: (line: string) => void;
}

export interface TrainerAutoscaler {
  /** One pass now (also what the timer and registry changes run); resolves when its ensure is done. */
  pass(): Promise<void>;
  stop(): Promise<void>;
}

export function startTrainerAutoscaler(opts: TrainerAutoscalerOptions): TrainerAutoscaler {
  const { registry, launcher } = opts;
  const demand = opts.demand ?? ((): number => registry.list().length);
  const maxTrainers = opts.maxTrainers ?? Number.POSITIVE_INFINITY;
  const log = opts.log ?? ((line: string): void => console.error(line));
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let lastError = '';

  const target = (): number => {
    let wanted: number;
    try {
      wanted = demand();
    } catch (err) {
      log(`autoscaler: demand() failed: ${(err as Error).message}; keeping the trainers there are`);
      wanted = registry.list().length;
    }
    return Math.max(0, Math.min(maxTrainers, Math.floor(Number.isFinite(wanted) ? wanted : 0)));
  };

  /** Synchronous, so that a claim's registry change withdraws its trainer from release at once. */
  const offerIdle = (want: number): void => {
    const surplus = registry.list().length - want;
    // Highest ids go first (compareIds order), so successive passes pick the same trainers.
    const idle = surplus > 0 ? registry.idle().slice(-surplus) : [];
    launcher.release(idle.map((t) => t.id)).catch((err: unknown) => {
      log(`autoscaler: release failed: ${(err as Error).message}`);
    });
  };

  const pass = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    const want = target();
    offerIdle(want);
    if (running !== undefined) {
      // One ensure at a time; changes meanwhile are folded into one more pass.
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          try {
            await launcher.ensure(target());
            lastError = '';
          } catch (err) {
            const message = (err as Error).message;
            // Once per distinct failure: the timer retries every few seconds.
            if (message !== lastError) log(`autoscaler: ${message}`);
            lastError = message;
          }
        } while (again && !stopped);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const unsubscribe = registry.onChange(() => void pass());
  const timer = setInterval(() => void pass(), opts.intervalMs ?? 2000);
  // The autoscaler alone must not keep a process alive.
  timer.unref();
  void pass();

  return {
    pass,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      await running;
    },
  };
}
