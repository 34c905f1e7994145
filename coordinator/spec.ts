/**
 * Checking a submitted TrialSpec before any trainer is asked to do anything, and working out what
 * the trial is made of: which modalities with which sizes, how many rows, and how its latents are
 * named. A mistake found here costs the user one RPC; found by a trainer, it costs a failed trial.
 * Errors name the request field (`spec.preset`, `spec.modalities[1]`) or the dataset file.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CrlError, invalidArgument } from '../common/errors.js';
import { exogenousName, latentName } from '../common/graph.js';
import { StagedDirectory } from '../common/output-dir.js';
import { readIdFile } from '../trainer/data/cohort/join.js';
import { filePresetHint } from '../trainer/data/file-presets.js';
import { MANIFEST_FILE, readManifest, type DatasetManifest } from '../trainer/data/manifest.js';
import { modalitySpecsOf } from '../trainer/data/modality-specs.js';
import { PRESETS, resolveSpec, type SyntheticSpec } from '../trainer/data/synthetic/spec.js';
import type { TrialSpec } from '../proto/gen/crl/v1/trial.js';
import { DEFAULT_MODEL_SIZE, type ModelSize, type PlacedModality } from './placement.js';

export interface TrialModality extends PlacedModality {
  /** 0-based position in the dataset; latents are named z<index+1>_<i> after it. */
  index: number;
}

export interface ResolvedTrialSpec {
  source: { kind: 'preset'; preset: string } | { kind: 'data_dir'; dir: string };
  /** The trained modalities, in the spec's order (the dataset's when the spec lists none). */
  modalities: TrialModality[];
  rows: number;
  /** Column names of the trial's latent matrix, modality by modality. */
  latentNames: string[];
  /** Start column of each trained modality in the latent matrix, by name. */
  latentOffsets: Map<string, number>;
  /** Column names of the trial's exogenous-slot matrix (`eta<m>_<j>`), modality by modality. */
  exogenousNames: string[];
  /** Start column of each trained modality in the exogenous matrix, by name. */
  exogenousOffsets: Map<string, number>;
  model: ModelSize;
}

/** Validates `spec` against the presets or the dataset on disk; throws a CrlError naming the field. */
export function resolveTrialSpec(spec: TrialSpec | undefined): ResolvedTrialSpec {
  if (spec === undefined) throw invalidArgument('a trial needs a spec', { field: 'spec' });
  const hasPreset = spec.preset !== '';
  const hasDir = spec.dataDir !== '';
  if (hasPreset === hasDir) {
    throw invalidArgument(
      hasPreset ? 'give a preset or a data_dir, not both' : 'give a preset or a data_dir (neither is set)',
      { field: hasPreset ? 'spec.data_dir' : 'spec.preset' },
    );
  }
  checkNumbers(spec);
  const model = modelSizeOf(spec.overridesJson);
  if (spec.outDir !== '') refuseExistingRunDir(spec.outDir);

  const { all, rows, source } = hasPreset ? presetModalities(spec) : datasetModalities(spec);
  const modalities = selectModalities(all, spec.modalities);
  const latentNames: string[] = [];
  const latentOffsets = new Map<string, number>();
  const exogenousNames: string[] = [];
  const exogenousOffsets = new Map<string, number>();
  for (const m of modalities) {
    latentOffsets.set(m.name, latentNames.length);
    for (let i = 0; i < m.latents; i++) latentNames.push(latentName(m.index + 1, i + 1));
    exogenousOffsets.set(m.name, exogenousNames.length);
    for (let j = 0; j < m.exogenous; j++) exogenousNames.push(exogenousName(m.index + 1, j + 1));
  }
  return { source, modalities, rows, latentNames, latentOffsets, exogenousNames, exogenousOffsets, model };
}

function presetModalities(spec: TrialSpec): {
  all: TrialModality[];
  rows: number;
  source: ResolvedTrialSpec['source'];
} {
  if (PRESETS[spec.preset] === undefined) {
    const hint = filePresetHint(spec.preset, 'spec.preset');
    if (hint !== undefined) throw hint;
    throw invalidArgument(
      `unknown preset "${spec.preset}"; known presets: ${Object.keys(PRESETS).join(', ')}`,
      { field: 'spec.preset' },
    );
  }
  let synthetic: SyntheticSpec;
  try {
    synthetic = resolveSpec(spec.preset, { seed: spec.seed, n: spec.rows === 0 ? undefined : spec.rows });
  } catch (err) {
    // resolveSpec names CLI flags; over gRPC the user sent spec fields.
    if (err instanceof CrlError && err.where.field === '--n') {
      throw invalidArgument(err.message.replace(/^--n: /, ''), { field: 'spec.rows' }, err);
    }
    throw err;
  }
  const all = synthetic.dims.map((dims, i): TrialModality => ({
    // generateSynthetic names its modalities m1, m2, ...
    name: `m${i + 1}`,
    index: i,
    dims,
    latents: synthetic.latents[i] as number,
    exogenous: synthetic.exogenous[i] as number,
  }));
  return { all, rows: synthetic.n, source: { kind: 'preset', preset: spec.preset } };
}

function datasetModalities(spec: TrialSpec): {
  all: TrialModality[];
  rows: number;
  source: ResolvedTrialSpec['source'];
} {
  const dir = spec.dataDir;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CrlError('NOT_FOUND', `dataset directory ${dir} does not exist`, {
      file: dir,
      field: 'spec.data_dir',
    });
  }
  const manifestFile = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestFile)) {
    throw new CrlError('NOT_FOUND', `${dir} holds no ${MANIFEST_FILE}; it is not a dataset directory`, {
      file: manifestFile,
      field: 'spec.data_dir',
    });
  }
  if (spec.rows !== 0) {
    throw invalidArgument('rows applies to a preset only (a dataset has the rows it has)', {
      field: 'spec.rows',
    });
  }
  const manifest = readManifest(dir);
  const all = modalitySpecsOf(manifest, manifestFile).map((m, index): TrialModality => ({
    name: m.name,
    index,
    dims: m.dims,
    latents: m.latents,
    exogenous: m.exogenous,
  }));
  return { all, rows: manifest.n ?? keyedRows(dir, manifest), source: { kind: 'data_dir', dir } };
}

/**
 * Rows of a cohort keyed by participant ID: its participants list. The cluster needs the list,
 * because the trainers and the latent assembly must agree on one row order without reading each
 * other's files.
 */
function keyedRows(dir: string, manifest: DatasetManifest): number {
  const file = join(dir, MANIFEST_FILE);
  if (manifest.participants === undefined) {
    throw invalidArgument(
      'a cohort keyed by participant ID needs a participants list to train on the cluster (one ID per line)',
      { file, field: 'participants' },
    );
  }
  const list = join(dir, manifest.participants);
  return readIdFile(list).length;
}

function selectModalities(all: TrialModality[], wanted: readonly string[]): TrialModality[] {
  if (wanted.length === 0) return all;
  const byName = new Map(all.map((m) => [m.name, m]));
  const seen = new Set<string>();
  return wanted.map((name, i) => {
    const field = `spec.modalities[${i}]`;
    const m = byName.get(name);
    if (m === undefined) {
      throw invalidArgument(`unknown modality "${name}"; the data have ${[...byName.keys()].join(', ')}`, {
        field,
      });
    }
    if (seen.has(name)) throw invalidArgument(`modality "${name}" is listed twice`, { field });
    seen.add(name);
    return m;
  });
}

const COUNT_FIELDS = [
  ['rows', 'spec.rows'],
  ['steps', 'spec.steps'],
  ['batchSize', 'spec.batch_size'],
  ['evalEvery', 'spec.eval_every'],
  ['patience', 'spec.patience'],
] as const;

const REAL_FIELDS = [
  ['lr', 'spec.lr'],
  ['alphaInd', 'spec.alpha_ind'],
  ['alphaSp', 'spec.alpha_sp'],
  ['alphaRecon', 'spec.alpha_recon'],
] as const;

function checkNumbers(spec: TrialSpec): void {
  for (const [key, field] of COUNT_FIELDS) {
    const v = spec[key];
    if (!Number.isInteger(v) || v < 0)
      throw invalidArgument(`must be a non-negative integer, got ${v}`, { field });
  }
  for (const [key, field] of REAL_FIELDS) {
    const v = spec[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw invalidArgument(`must be a finite number >= 0, got ${v}`, { field });
    }
  }
}

/**
 * The encoder/decoder size for placement costs, from overrides_json's `model.hidden` and
 * `model.layers`. Everything else in it is the trainer's to validate; here it only has to be a
 * JSON object, so a typo fails at submission rather than on every trainer.
 */
function modelSizeOf(overridesJson: string): ModelSize {
  if (overridesJson === '') return { ...DEFAULT_MODEL_SIZE };
  let raw: unknown;
  try {
    raw = JSON.parse(overridesJson);
  } catch (err) {
    throw invalidArgument(`is not JSON: ${(err as Error).message}`, { field: 'spec.overrides_json' }, err);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidArgument('must be a JSON object', { field: 'spec.overrides_json' });
  }
  const model = (raw as Record<string, unknown>)['model'];
  const size = { ...DEFAULT_MODEL_SIZE };
  if (typeof model === 'object' && model !== null) {
    const { hidden, layers } = model as Record<string, unknown>;
    if (typeof hidden === 'number' && Number.isInteger(hidden) && hidden > 0) size.hidden = hidden;
    if (typeof layers === 'number' && Number.isInteger(layers) && layers > 0) size.layers = layers;
  }
  return size;
}

/** Refuses a non-empty out_dir now, before the training time is spent, as `crl train --out` does. */
function refuseExistingRunDir(outDir: string): void {
  try {
    StagedDirectory.open(outDir, { flag: 'spec.out_dir' }).abort();
  } catch (err) {
    if (err instanceof CrlError && err.code === 'ALREADY_EXISTS') {
      throw new CrlError(
        'ALREADY_EXISTS',
        `run directory ${outDir} exists and is not empty; choose another`,
        {
          field: 'spec.out_dir',
        },
      );
    }
    if (err instanceof CrlError) throw err;
    throw invalidArgument(`cannot create the run directory: ${(err as Error).message}`, {
      file: outDir,
      field: 'spec.out_dir',
    });
  }
}
