/**
 * The study spec, as users write it (YAML or JSON, snake_case):
 *
 *   name: c1-sparsity
 *   dataset: { preset: c1, seed: 1, rows: 2000 }        # or { data_dir: /data/cohort }
 *   fixed: { steps: 300, batch_size: 128, eval_every: 50, model.hidden: 32 }
 *   space:
 *     - { name: alpha_sp, type: float, low: 0.001, high: 0.1, log: true }
 *     - { name: model.gate.kind, type: categorical, choices: [concrete, sigmoid] }
 *     - { name: model.gate.temperature, type: float, low: 0.2, high: 1, when: { param: model.gate.kind, in: [concrete] } }
 *   objectives: [{ metric: val_loss, direction: minimize }, { metric: mcc, direction: maximize }]
 *   sampler: { type: tpe, seed: 1, n_startup_trials: 4 }
 *   pruner: { type: asha, min_resource: 100, reduction_factor: 3 }
 *   budget: { max_trials: 8, max_concurrent: 2, time_limit_s: 900 }
 *   trainers_per_trial: 1
 *   retries: 1
 *
 * A parameter (fixed or searched) is either a trial field (`steps`, `batch_size`, `lr`,
 * `eval_every`, `patience`, `alpha_ind`, `alpha_sp`, `alpha_recon`) or a dotted path into the
 * trainer's overrides (`model.hidden`, `training.lrSchedule`, ...). Validation happens here,
 * before any trial runs, and names the field at fault.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CrlError, invalidArgument } from '../../common/errors.js';
import type { TrialSpec } from '../../proto/gen/crl/v1/trial.js';
import { readManifest } from '../../trainer/data/manifest.js';
import { trialSettings } from '../../trainer/service/settings.js';
import { resolveTrialSpec, type ResolvedTrialSpec } from '../spec.js';
import { METRICS, type MetricName } from './objectives.js';
import {
  validateSpace,
  type Direction,
  type ParamAssignment,
  type ParamValue,
  type SearchSpace,
} from './space.js';
import type { PrunerConfig } from './pruner.js';
import type { SamplerConfig } from './sampler.js';

const value = z.union([z.number(), z.string(), z.boolean()]);
const condition = z.object({ param: z.string(), in: z.array(value).min(1) }).strict();
const param = z.discriminatedUnion('type', [
  z
    .object({
      name: z.string().min(1),
      type: z.literal('float'),
      low: z.number(),
      high: z.number(),
      log: z.boolean().optional(),
      step: z.number().positive().optional(),
      when: condition.optional(),
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      type: z.literal('int'),
      low: z.number().int(),
      high: z.number().int(),
      log: z.boolean().optional(),
      step: z.number().int().positive().optional(),
      when: condition.optional(),
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      type: z.literal('categorical'),
      choices: z.array(value).min(1),
      when: condition.optional(),
    })
    .strict(),
]);

const Spec = z
  .object({
    name: z.string().min(1).max(100),
    dataset: z
      .object({
        preset: z.string().optional(),
        data_dir: z.string().optional(),
        seed: z.number().int().min(0).default(0),
        rows: z.number().int().positive().optional(),
        modalities: z.array(z.string()).optional(),
      })
      .strict(),
    fixed: z.record(z.string(), value).default({}),
    space: z.array(param).min(1),
    objectives: z
      .array(
        z
          .object({
            metric: z.enum(Object.keys(METRICS) as [MetricName, ...MetricName[]]),
            direction: z.enum(['minimize', 'maximize']),
          })
          .strict(),
      )
      .min(1),
    sampler: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('random'), seed: z.number().int().min(0).default(0) }).strict(),
        z
          .object({
            type: z.literal('grid'),
            seed: z.number().int().min(0).default(0),
            shuffle: z.boolean().optional(),
          })
          .strict(),
        z
          .object({
            type: z.literal('tpe'),
            seed: z.number().int().min(0).default(0),
            n_startup_trials: z.number().int().min(0).optional(),
            n_ei_candidates: z.number().int().positive().optional(),
          })
          .strict(),
      ])
      .default({ type: 'tpe', seed: 0 }),
    pruner: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('none') }).strict(),
        z
          .object({
            type: z.literal('median'),
            n_startup_trials: z.number().int().min(0).optional(),
            n_warmup_steps: z.number().int().min(0).optional(),
            interval_steps: z.number().int().positive().optional(),
          })
          .strict(),
        z
          .object({
            type: z.literal('asha'),
            min_resource: z.number().int().positive(),
            reduction_factor: z.number().int().min(2).optional(),
            min_early_stopping_rate: z.number().int().min(0).optional(),
          })
          .strict(),
      ])
      .default({ type: 'none' }),
    budget: z
      .object({
        max_trials: z.number().int().positive(),
        max_concurrent: z.number().int().positive().default(1),
        time_limit_s: z.number().positive().optional(),
      })
      .strict(),
    trainers_per_trial: z.number().int().positive().default(1),
    retries: z.number().int().min(0).max(10).default(0),
  })
  .strict();

export interface Objective {
  metric: MetricName;
  direction: Direction;
}

export interface StudySpec {
  name: string;
  dataset: { preset?: string; dataDir?: string; seed: number; rows?: number; modalities?: string[] };
  fixed: Record<string, ParamValue>;
  space: SearchSpace;
  objectives: Objective[];
  /** What the pruner sees at each evaluation: the objectives with an intermediate signal, else val_loss. */
  intermediate: Objective[];
  sampler: SamplerConfig;
  pruner: PrunerConfig;
  budget: { maxTrials: number; maxConcurrent: number; timeLimitS?: number };
  trainersPerTrial: number;
  retries: number;
  /** The dataset as the coordinator resolved it (modalities, rows). */
  resolved: ResolvedTrialSpec;
}

const TRIAL_FIELDS = new Set([
  'steps',
  'batch_size',
  'lr',
  'eval_every',
  'patience',
  'alpha_ind',
  'alpha_sp',
  'alpha_recon',
]);

/** Reads YAML or JSON text (`file` labels errors). */
export function parseStudySpec(text: string, file = 'spec'): StudySpec {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw invalidArgument(`not YAML or JSON: ${(err as Error).message}`, { file });
  }
  const parsed = Spec.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidArgument(issue?.message ?? 'invalid study spec', {
      file,
      field: issue?.path.join('.') || 'spec',
    });
  }
  const s = parsed.data;
  const space: SearchSpace = { params: s.space };
  try {
    validateSpace(space, 'space');
  } catch (err) {
    // The spec lists the params directly under `space`.
    if (err instanceof CrlError)
      throw err.relocated({ file, field: err.where.field?.replace(/^space\.params\[/, 'space[') });
    throw err;
  }
  const names = [...Object.keys(s.fixed), ...s.space.map((p) => p.name)];
  names.forEach((name, i) => {
    const field =
      i < Object.keys(s.fixed).length ? `fixed.${name}` : `space[${i - Object.keys(s.fixed).length}].name`;
    if (!TRIAL_FIELDS.has(name) && !/^(model|training)\.[A-Za-z][A-Za-z0-9.]*$/.test(name)) {
      throw invalidArgument(
        `unknown parameter "${name}": use a trial field (${[...TRIAL_FIELDS].join(', ')}) or model.<key> / training.<key>`,
        { file, field },
      );
    }
  });
  const clash = s.space.find((p) => p.name in s.fixed);
  if (clash !== undefined)
    throw invalidArgument(`"${clash.name}" is both fixed and searched`, { file, field: 'fixed' });
  const dataset: StudySpec['dataset'] = {
    seed: s.dataset.seed,
    ...(s.dataset.preset === undefined ? {} : { preset: s.dataset.preset }),
    ...(s.dataset.data_dir === undefined ? {} : { dataDir: s.dataset.data_dir }),
    ...(s.dataset.rows === undefined ? {} : { rows: s.dataset.rows }),
    ...(s.dataset.modalities === undefined ? {} : { modalities: s.dataset.modalities }),
  };
  const resolved = resolveTrialSpec(
    toTrialSpec(
      {
        dataset,
        fixed: s.fixed,
      },
      {},
    ),
  );
  const objectives = s.objectives.map((o) => ({ metric: o.metric, direction: o.direction }));
  const needsTruth = objectives.find((o) => METRICS[o.metric].needsTruth);
  if (
    needsTruth !== undefined &&
    resolved.source.kind === 'data_dir' &&
    !hasTruth(dataset.dataDir as string)
  ) {
    throw invalidArgument(
      `objective ${needsTruth.metric} needs ground truth, and ${dataset.dataDir} has none`,
      {
        file,
        field: 'objectives',
      },
    );
  }
  const withSignal = objectives.filter((o) => METRICS[o.metric].intermediate);
  const intermediate: Objective[] =
    withSignal.length > 0 ? withSignal : [{ metric: 'val_loss', direction: 'minimize' }];
  const sampler: SamplerConfig =
    s.sampler.type === 'tpe'
      ? {
          type: 'tpe',
          seed: s.sampler.seed,
          ...(s.sampler.n_startup_trials === undefined ? {} : { nStartupTrials: s.sampler.n_startup_trials }),
          ...(s.sampler.n_ei_candidates === undefined ? {} : { nEiCandidates: s.sampler.n_ei_candidates }),
        }
      : s.sampler.type === 'grid'
        ? {
            type: 'grid',
            seed: s.sampler.seed,
            ...(s.sampler.shuffle === undefined ? {} : { shuffle: s.sampler.shuffle }),
          }
        : { type: 'random', seed: s.sampler.seed };
  const p = s.pruner;
  const pruner: PrunerConfig =
    p.type === 'median'
      ? {
          type: 'median',
          ...(p.n_startup_trials === undefined ? {} : { nStartupTrials: p.n_startup_trials }),
          ...(p.n_warmup_steps === undefined ? {} : { nWarmupSteps: p.n_warmup_steps }),
          ...(p.interval_steps === undefined ? {} : { intervalSteps: p.interval_steps }),
        }
      : p.type === 'asha'
        ? {
            type: 'asha',
            minResource: p.min_resource,
            ...(p.reduction_factor === undefined ? {} : { reductionFactor: p.reduction_factor }),
            ...(p.min_early_stopping_rate === undefined
              ? {}
              : { minEarlyStoppingRate: p.min_early_stopping_rate }),
          }
        : { type: 'none' };
  const spec: StudySpec = {
    name: s.name,
    dataset,
    fixed: s.fixed,
    space,
    objectives,
    intermediate,
    sampler,
    pruner,
    budget: {
      maxTrials: s.budget.max_trials,
      maxConcurrent: s.budget.max_concurrent,
      ...(s.budget.time_limit_s === undefined ? {} : { timeLimitS: s.budget.time_limit_s }),
    },
    trainersPerTrial: s.trainers_per_trial,
    retries: s.retries,
    resolved,
  };
  checkSettings(spec, file);
  return spec;
}

/** The cluster trial for one assignment of the searched parameters. */
export function toTrialSpec(
  spec: Pick<StudySpec, 'dataset' | 'fixed'>,
  params: ParamAssignment,
  outDir = '',
  checkpoint: { dir: string; resume: boolean } = { dir: '', resume: false },
): TrialSpec {
  const all: Record<string, ParamValue> = { ...spec.fixed, ...params };
  const num = (key: string): number | undefined =>
    typeof all[key] === 'number' ? (all[key] as number) : undefined;
  const overrides: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(all)) {
    if (TRIAL_FIELDS.has(key)) {
      if (typeof v !== 'number')
        throw invalidArgument(`must be a number, got ${JSON.stringify(v)}`, { field: key });
      continue;
    }
    const path = key.split('.');
    let node = overrides;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path.at(-1) as string] = v;
  }
  return {
    preset: spec.dataset.preset ?? '',
    dataDir: spec.dataset.dataDir ?? '',
    modalities: spec.dataset.modalities ?? [],
    seed: spec.dataset.seed,
    rows: spec.dataset.rows ?? 0,
    steps: num('steps') ?? 0,
    batchSize: num('batch_size') ?? 0,
    lr: num('lr') ?? 0,
    evalEvery: num('eval_every') ?? 0,
    patience: num('patience') ?? 0,
    ...(num('alpha_ind') === undefined ? {} : { alphaInd: num('alpha_ind') }),
    ...(num('alpha_sp') === undefined ? {} : { alphaSp: num('alpha_sp') }),
    ...(num('alpha_recon') === undefined ? {} : { alphaRecon: num('alpha_recon') }),
    overridesJson: Object.keys(overrides).length === 0 ? '' : JSON.stringify(overrides),
    outDir,
    checkpointDir: checkpoint.dir,
    resume: checkpoint.resume,
  };
}

/**
 * Every setting a trial could get must be one the trainer accepts: checked on the fixed values
 * with each searched parameter at its bounds (or each choice), so a misspelt override fails the
 * submission instead of every trial.
 */
function checkSettings(spec: StudySpec, file: string): void {
  const modalities = spec.resolved.modalities.map((m) => ({ ...m, kind: 'tabular' as const }));
  const probe = (params: ParamAssignment, field: string): void => {
    try {
      trialSettings(toTrialSpec(spec, params), modalities);
    } catch (err) {
      throw invalidArgument((err as Error).message, { file, field }, err);
    }
  };
  probe({}, 'fixed');
  spec.space.params.forEach((p, i) => {
    const values = p.type === 'categorical' ? p.choices : [p.low, p.high];
    for (const v of values) probe({ [p.name]: v }, `space[${i}]`);
  });
}

function hasTruth(dir: string): boolean {
  return readManifest(dir).truth !== undefined;
}
