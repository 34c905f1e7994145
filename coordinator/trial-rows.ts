/**
 * Who the rows of a trial are: for a cohort keyed by participant ID, the participant IDs (the
 * run's latents.csv names them) and which latents do not exist because a participant lacks a
 * modality. Only participant IDs are read, never observations.
 */
import { loadCohort } from '../trainer/data/cohort/load.js';
import { completeRows, missingLatentCells } from '../trainer/data/rows/block.js';
import type { ResolvedTrialSpec } from './spec.js';

export interface TrialRows {
  participants: string[] | undefined;
  /** Participants present in every trained modality; undefined when nobody lacks any. */
  complete: Uint8Array | undefined;
  /** Latent cells (row-major n x d) without an estimate; undefined when every cell has one. */
  missing: Uint8Array | undefined;
  /** The same for the exogenous slots (row-major n x e). */
  missingExogenous: Uint8Array | undefined;
}

export async function trialRows(resolved: ResolvedTrialSpec): Promise<TrialRows> {
  if (resolved.source.kind !== 'data_dir')
    return { participants: undefined, complete: undefined, missing: undefined, missingExogenous: undefined };
  const cohort = await loadCohort(resolved.source.dir, { read: [] });
  const presence = resolved.modalities.map(
    (m) => cohort.presence[cohort.specs.findIndex((s) => s.name === m.name)],
  );
  return {
    participants: cohort.participants,
    complete: completeRows(presence, cohort.n),
    missing: missingLatentCells(
      resolved.modalities.map((m) => m.latents),
      presence,
      cohort.n,
    ),
    missingExogenous: missingLatentCells(
      resolved.modalities.map((m) => m.exogenous),
      presence,
      cohort.n,
    ),
  };
}
