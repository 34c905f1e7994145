/**
 * A trial's model and training settings from its TrialSpec: the spec's typed fields, then
 * `overrides_json` for everything else (validated strictly, so a misspelt key fails the trial at
 * join time with the key named instead of being ignored).
 */
import { z } from 'zod';
import { invalidArgument } from '../../common/errors.js';
import type { TrialSpec } from '../../proto/gen/crl/v1/trial.js';
import { modelConfig, type ModalitySpec, type ModelConfig } from '../model/index.js';
import { DEFAULT_TRAIN, type TrainOptions } from '../training/train.js';

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();

const Overrides = z
  .object({
    model: z
      .object({
        hidden: positiveInt,
        layers: positiveInt,
        flowHidden: positiveInt,
        stochastic: z.boolean(),
        indEstimator: z.enum(['sample', 'aggregate']),
        negativeSlope: nonNegative,
        convChannels: z.array(positiveInt).min(1),
        convKernel: positiveInt,
        rotation: z.boolean(),
        gate: z
          .object({
            kind: z.enum(['concrete', 'sigmoid']),
            temperature: z.number().positive(),
            initLogit: z.number(),
            threshold: z.number().gt(0).lt(1),
            intraModal: z.boolean(),
          })
          .partial()
          .strict(),
        alpha: z.object({ intraSp: nonNegative }).partial().strict(),
      })
      .partial()
      .strict(),
    training: z
      .object({
        lrSchedule: z.enum(['cosine', 'constant']),
        lrMinFraction: nonNegative,
        validationFraction: z.number().min(0).lt(1),
        sparsityWarmup: z.number().min(0).max(1),
        adam: z
          .object({
            beta1: nonNegative,
            beta2: nonNegative,
            epsilon: z.number().positive(),
            clipNorm: z.number().positive(),
          })
          .partial()
          .strict(),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export interface TrialSettings {
  config: ModelConfig;
  options: TrainOptions;
}

export function trialSettings(spec: TrialSpec, modalities: ModalitySpec[]): TrialSettings {
  let overrides: z.infer<typeof Overrides> = {};
  if (spec.overridesJson !== '') {
    let raw: unknown;
    try {
      raw = JSON.parse(spec.overridesJson);
    } catch (err) {
      throw invalidArgument(`not JSON: ${(err as Error).message}`, { field: 'spec.overrides_json' });
    }
    const parsed = Overrides.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.join('.') ?? '';
      throw invalidArgument(issue?.message ?? 'invalid', {
        field: `spec.overrides_json${path === '' ? '' : `.${path}`}`,
      });
    }
    overrides = parsed.data;
  }
  const m = overrides.model ?? {};
  const { gate, alpha, ...rest } = m;
  const config = modelConfig(modalities, {
    ...rest,
    ...(gate === undefined ? {} : { gate }),
    alpha: {
      ...(spec.alphaInd === undefined ? {} : { ind: spec.alphaInd }),
      ...(spec.alphaSp === undefined ? {} : { sp: spec.alphaSp }),
      ...(spec.alphaRecon === undefined ? {} : { recon: spec.alphaRecon }),
      ...(alpha?.intraSp === undefined ? {} : { intraSp: alpha.intraSp }),
    },
  });
  const t = overrides.training ?? {};
  const options: TrainOptions = {
    ...DEFAULT_TRAIN,
    ...t,
    adam: { ...DEFAULT_TRAIN.adam, ...t.adam },
    seed: spec.seed,
    ...(spec.steps > 0 ? { steps: spec.steps } : {}),
    ...(spec.batchSize > 0 ? { batchSize: spec.batchSize } : {}),
    ...(spec.lr > 0 ? { lr: spec.lr } : {}),
    ...(spec.evalEvery > 0 ? { evalEvery: spec.evalEvery } : {}),
    ...(spec.patience > 0 ? { patience: spec.patience } : {}),
  };
  return { config, options };
}
