/**
 * A trial's checkpoints on a volume every trainer of the group can reach:
 * `<dir>/step-<N>/part-<modalities>-s<shard>/` per trainer part, written at every evaluation. A
 * retry (possibly on other trainers, with the same modality grouping) resumes from the latest
 * step at which every part of the group was written completely; each part is written into a
 * staging directory and renamed, so a part that exists is whole.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirectoryAtomically } from '../../common/output-dir.js';
import { CHECKPOINT_MANIFEST, CHECKPOINT_WEIGHTS, type CheckpointFiles } from '../training/checkpoint.js';

/** Steps kept per part: the latest, and one before it in case a group died while writing. */
const KEEP_STEPS = 2;

export function partName(modalities: readonly string[], shard: number): string {
  return `part-${modalities.join('+')}-s${shard}`;
}

export function writePart(dir: string, step: number, part: string, files: CheckpointFiles): void {
  writeDirectoryAtomically(join(dir, `step-${step}`, part), { overwrite: true }, (d) => {
    d.write(CHECKPOINT_WEIGHTS, files.weights);
    d.write(CHECKPOINT_MANIFEST, files.manifest);
  });
  // This part's older steps; the other parts prune their own.
  for (const s of stepsIn(dir).slice(0, -KEEP_STEPS)) {
    rmSync(join(dir, `step-${s}`, part), { recursive: true, force: true });
  }
}

/** The latest step at which every one of `parts` exists, or undefined. */
export function latestCompleteStep(dir: string, parts: readonly string[]): number | undefined {
  return stepsIn(dir)
    .reverse()
    .find((s) => parts.every((p) => existsSync(join(dir, `step-${s}`, p, CHECKPOINT_MANIFEST))));
}

function stepsIn(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^step-(\d+)$/.exec(name)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}
