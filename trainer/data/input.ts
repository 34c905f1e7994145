/**
 * What training reads: a synthetic preset (generated from the seed) or a dataset directory, as
 * modality specs for the model, the observation tables of the modalities asked for, and the ground
 * truth when there is one. `crl train` reads everything; a trainer of a group only its modalities.
 */
import { invalidArgument } from '../../common/errors.js';
import { latentLayoutOf } from '../../common/graph.js';
import type { ModalitySpec } from '../model/config.js';
import { prepareTrainingData, type ModalityTable } from '../training/data.js';
import { loadCohort } from './cohort/load.js';
import { filePresetHint } from './file-presets.js';
import { loadTruth, type LoadedTruth } from './dataset.js';
import type { RowBlock } from './rows/block.js';
import type { Scaling } from './rows/standardize.js';
import { generateSynthetic } from './synthetic/generate.js';
import { resolveSpec } from './synthetic/spec.js';

export interface InputSource {
  /** A dataset directory (exactly one of data and preset). */
  data?: string;
  preset?: string;
  /** Rows of a generated preset. */
  n?: number;
  seed: number;
}

export interface TrainingInput {
  source: string;
  /** Every modality of the data, in dataset order. */
  specs: ModalitySpec[];
  /** Participants: rows of every block. */
  n: number;
  /** Standardised blocks of the modalities in `read` (all by default), in that order. */
  blocks: RowBlock[];
  /** Presence of every modality (dataset order); undefined where nobody lacks it. */
  presence: (Uint8Array | undefined)[];
  /** Standardisation of the blocks (stored with the run). */
  scaling: Scaling[];
  /** Participant IDs in row order, for cohorts keyed by ID. */
  participants: string[] | undefined;
  truth: LoadedTruth | undefined;
}

export interface InputOptions {
  /** Modalities whose observations to load: a trainer reads only its own. */
  read?: readonly string[];
  /** Load the ground truth when the data carry it (default true). */
  truth?: boolean;
}

export async function loadTrainingInput(o: InputSource, opts: InputOptions = {}): Promise<TrainingInput> {
  if ((o.data === undefined) === (o.preset === undefined)) {
    throw invalidArgument('give exactly one of --data DIR and --preset NAME', { field: '--data' });
  }
  if (o.preset !== undefined) {
    const hint = filePresetHint(o.preset, '--preset');
    if (hint !== undefined) throw hint;
    const spec = resolveSpec(o.preset, { seed: o.seed, ...(o.n === undefined ? {} : { n: o.n }) });
    // Generated whole: the synthetic mixing couples nothing across modalities, but drawing it is
    // cheap and keeps one code path; only the asked-for modalities become blocks.
    const ds = generateSynthetic(spec);
    const tables = ds.modalities.map((m) => ({ name: m.name, observations: m.observations }));
    const data = prepareTrainingData(pick(tables, opts.read, `preset ${o.preset}`));
    return {
      source: `preset:${o.preset}`,
      n: data.n,
      blocks: data.blocks,
      presence: tables.map(() => undefined),
      scaling: data.scaling,
      participants: undefined,
      specs: ds.modalities.map((m, i) => ({
        name: m.name,
        kind: 'tabular',
        dims: spec.dims[i] as number,
        latents: spec.latents[i] as number,
        exogenous: spec.exogenous[i] as number,
      })),
      truth:
        opts.truth === false
          ? undefined
          : { latents: ds.latents, graph: ds.graph, identifiability: ds.identifiability },
    };
  }
  const dir = o.data as string;
  if (o.n !== undefined) throw invalidArgument('--n applies to --preset only', { field: '--n' });
  const cohort = await loadCohort(dir, opts.read === undefined ? {} : { read: opts.read });
  try {
    const truth = opts.truth === false ? undefined : loadTruth(dir, cohort.manifest);
    if (truth !== undefined) {
      const want = latentLayoutOf(cohort.specs.map((s) => s.latents)).names;
      const missing = want.filter((c) => !truth.latents.columns.includes(c));
      if (missing.length > 0) {
        throw invalidArgument(
          `the truth latents lack ${missing.join(', ')}: the latent sizes do not fit the manifest`,
          { file: dir, field: 'modalities[].latents' },
        );
      }
      if (truth.latents.nRows !== cohort.n) {
        throw invalidArgument(`the truth has ${truth.latents.nRows} rows for ${cohort.n} participants`, {
          file: dir,
          field: 'truth.latents',
        });
      }
    }
    return {
      source: dir,
      specs: cohort.specs,
      n: cohort.n,
      blocks: cohort.blocks,
      presence: cohort.presence,
      scaling: cohort.scaling,
      participants: cohort.participants,
      truth,
    };
  } catch (err) {
    cohort.blocks.forEach((b) => b.close());
    throw err;
  }
}

function pick(tables: ModalityTable[], read: readonly string[] | undefined, where: string): ModalityTable[] {
  if (read === undefined) return tables;
  return read.map((name) => {
    const t = tables.find((x) => x.name === name);
    if (t === undefined) {
      throw invalidArgument(
        `unknown modality "${name}"; ${where} has ${tables.map((x) => x.name).join(', ')}`,
        {
          field: 'modalities',
        },
      );
    }
    return t;
  });
}
