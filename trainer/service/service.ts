/**
 * The TrainerService: one trial at a time. JoinTrial streams progress while training and ends with
 * the summary; the trained part stays until LeaveTrial so the coordinator can collect latents and
 * checkpoints. A call that ends the trial's stream early (client gone) stops the training.
 */
import { CrlError, invalidArgument } from '../../common/errors.js';
import { serverStreamHandler, unaryHandler } from '../../common/rpc/status.js';
import type { TrainerServiceServer } from '../../proto/gen/crl/v1/trainer.js';
import { TrialRun, type TrialRunDeps } from './trial-run.js';

export interface TrainerState {
  /** The trial this trainer works on, if any. */
  current(): string;
}

export function createTrainerService(deps: TrialRunDeps): TrainerServiceServer & TrainerState {
  let run: TrialRun | undefined;
  let joining = '';

  const runFor = (trialId: string, field = 'trial_id'): TrialRun => {
    if (trialId === '') throw invalidArgument('is required', { field });
    if (run === undefined || run.trialId !== trialId) {
      throw new CrlError('NOT_FOUND', `trainer ${deps.self} is not in trial ${trialId}`, { field });
    }
    return run;
  };

  const leave = (trialId: string): void => {
    if (run?.trialId !== trialId) return;
    run.dispose();
    run = undefined;
  };

  return {
    current: () => run?.trialId ?? joining,

    joinTrial: serverStreamHandler(async (req, call) => {
      // A finished part waits only for its coordinator to collect it; a new join means that
      // coordinator moved on (or restarted and forgot it), so it is dropped rather than blocking.
      if (run !== undefined && run.finished && run.trialId !== req.trialId) leave(run.trialId);
      const busy = run?.trialId ?? (joining === '' ? undefined : joining);
      if (busy !== undefined) {
        const code = busy === req.trialId ? 'ALREADY_EXISTS' : 'FAILED_PRECONDITION';
        throw new CrlError(code, `trainer ${deps.self} is already in trial ${busy}`);
      }
      joining = req.trialId;
      let mine: TrialRun;
      try {
        mine = await TrialRun.join(req, deps);
      } finally {
        joining = '';
      }
      run = mine;
      call.on('cancelled', () => mine.stop('the coordinator closed the trial stream'));
      try {
        const summary = await mine.train((progress) =>
          call.write({ event: { $case: 'progress', progress } }),
        );
        call.write({ event: { $case: 'summary', summary } });
      } catch (err) {
        leave(mine.trialId);
        throw err;
      }
    }),

    getLatents: serverStreamHandler(async (req, call) => {
      const r = runFor(req.trialId);
      for (const chunk of r.latents()) {
        if (!call.write(chunk)) await new Promise((resolve) => call.once('drain', resolve));
      }
    }),

    checkpoint: unaryHandler((req) => {
      if (req.directory === '') throw invalidArgument('is required', { field: 'directory' });
      return runFor(req.trialId).checkpoint(req.directory);
    }),

    leaveTrial: unaryHandler((req) => {
      if (req.trialId === '') throw invalidArgument('is required', { field: 'trial_id' });
      leave(req.trialId);
      return {};
    }),
  };
}
