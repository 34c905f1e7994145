/** Trial states: which ones are final, and their short names for people. */
import { TrialState } from '../proto/gen/crl/v1/trial.js';

export function isTerminal(state: TrialState): boolean {
  return (
    state === TrialState.TRIAL_STATE_SUCCEEDED ||
    state === TrialState.TRIAL_STATE_FAILED ||
    state === TrialState.TRIAL_STATE_CANCELLED
  );
}

/** "RUNNING" for TRIAL_STATE_RUNNING. */
export function stateName(state: TrialState): string {
  return (TrialState[state] ?? String(state)).replace(/^TRIAL_STATE_/, '');
}
