/** Runs single-process and group training on the same preset, for the equivalence tests and bench:cluster. */
import type { RowBlock } from '../../trainer/data/rows/block.js';
import { generateSynthetic } from '../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../trainer/data/synthetic/spec.js';
import {
  createGroupMember,
  groupTopology,
  type GroupMember,
  type SyncObserver,
  type SyncTransport,
} from '../../trainer/distributed/index.js';
import { CrlModel, modelConfig, type ModelConfig } from '../../trainer/model/index.js';
import {
  DEFAULT_TRAIN,
  LocalEngine,
  prepareTrainingData,
  Trainer,
  type CurveRow,
  type TrainOptions,
} from '../../trainer/training/index.js';

export interface Problem {
  config: ModelConfig;
  options: TrainOptions;
  blocks: RowBlock[];
  /** Presence of each modality (missing participants), when the problem has any. */
  presence?: (Uint8Array | undefined)[];
  n: number;
}

export function problem(preset: string, n: number, train: Partial<TrainOptions>, seed = 3): Problem {
  const spec = resolveSpec(preset, { seed, n });
  const ds = generateSynthetic(spec);
  const data = prepareTrainingData(
    ds.modalities.map((m) => ({ name: m.name, observations: m.observations })),
  );
  const config = modelConfig(
    ds.modalities.map((m, i) => ({
      name: m.name,
      kind: 'tabular' as const,
      dims: spec.dims[i] as number,
      latents: spec.latents[i] as number,
      exogenous: spec.exogenous[i] as number,
    })),
    { hidden: 16 },
  );
  return {
    config,
    options: { ...DEFAULT_TRAIN, seed, patience: 0, ...train },
    blocks: data.blocks,
    n: data.n,
  };
}

export interface RunOutcome {
  curve: CurveRow[];
  /** Parameter values by name (a group's members merged; shared ones from the first member). */
  params: Map<string, Float32Array>;
}

export async function runSingle(p: Problem): Promise<RunOutcome> {
  const model = new CrlModel(p.config, p.options.seed);
  const trainer = new Trainer(
    new LocalEngine(
      model,
      { n: p.n, blocks: p.blocks, ...(p.presence ? { presence: p.presence } : {}) },
      p.options.adam,
    ),
    p.n,
    p.options,
  );
  try {
    const summary = await trainer.run();
    return { curve: summary.curve, params: paramValues([model]) };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

export async function runGroup(
  p: Problem,
  members: GroupMember[],
  transportFor: (id: string) => SyncTransport,
  observerFor?: (id: string) => SyncObserver,
): Promise<RunOutcome & { curves: CurveRow[][]; waitSeconds: number[] }> {
  const topology = groupTopology(members, p.config.modalities.length);
  const handles = topology.members.map((m) => {
    const observer = observerFor?.(m.id);
    return createGroupMember({
      trialId: 'equiv',
      self: m.id,
      config: p.config,
      options: p.options,
      topology,
      transport: transportFor(m.id),
      blocks: m.modalities.map((k) => p.blocks[k] as RowBlock),
      ...(p.presence ? { presence: p.presence } : {}),
      n: p.n,
      ...(observer === undefined ? {} : { observer }),
    });
  });
  try {
    await Promise.all(handles.map((h) => h.channel.ready()));
    const summaries = await Promise.all(handles.map((h) => h.trainer.run()));
    return {
      curve: summaries[0]?.curve ?? [],
      curves: summaries.map((s) => s.curve),
      params: paramValues(handles.map((h) => h.engine.model)),
      waitSeconds: handles.map((h) => h.channel.waitSeconds),
    };
  } finally {
    handles.forEach((h) => h.dispose());
  }
}

function paramValues(models: CrlModel[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const model of models) {
    for (const p of model.params.list()) {
      if (!out.has(p.name)) out.set(p.name, p.variable.dataSync() as Float32Array);
    }
  }
  return out;
}

/** Largest |a - b| / (1 + |b|) over all parameters. */
export function maxRelativeDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [name, va] of a) {
    const vb = b.get(name);
    if (vb === undefined || vb.length !== va.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < va.length; i++) {
      worst = Math.max(
        worst,
        Math.abs((va[i] as number) - (vb[i] as number)) / (1 + Math.abs(vb[i] as number)),
      );
    }
  }
  return a.size === b.size ? worst : Number.POSITIVE_INFINITY;
}
