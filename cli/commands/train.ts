/**
 * `crl train`: trains the causal multimodal model on a dataset directory or a synthetic preset and
 * writes a run directory: latents.csv, graph.json, curve.csv, checkpoint/ and, last, result.json.
 * The whole directory is staged and renamed into place, so a failed run leaves nothing that looks
 * complete. This module is the composition root: it joins the trainer and the evaluator.
 */
import type { Command } from 'commander';
import { formatLatentsCsv } from '../../common/csv.js';
import { curveCsv } from '../../common/curve.js';
import { formatGraph, latentModality, type Graph } from '../../common/graph.js';
import { invalidArgument } from '../../common/errors.js';
import { selectColumns, selectRows, type Table } from '../../common/matrix.js';
import { StagedDirectory, writeDirectoryAtomically } from '../../common/output-dir.js';
import {
  alignedMccOf,
  blockMatching,
  kernelRidgeR2,
  matchingToRelabel,
  mcc,
  shd,
} from '../../evaluator/index.js';
import { BACKEND_CHOICES, selectBackend } from '../../trainer/backend/index.js';
import { loadTrainingInput, type TrainingInput } from '../../trainer/data/input.js';
import { completeRows, missingLatentCells } from '../../trainer/data/rows/block.js';
import {
  identifiabilitySummary,
  type IdentifiabilitySummary,
} from '../../trainer/data/synthetic/identifiability.js';
import { PRESETS } from '../../trainer/data/synthetic/spec.js';
import { CrlModel, modelConfig, type ModalitySpec, type ModelConfig } from '../../trainer/model/index.js';
import {
  DEFAULT_TRAIN,
  LocalEngine,
  progressReporter,
  readCheckpoint,
  restartSeed,
  restoreCheckpoint,
  serializeCheckpoint,
  Trainer,
  type CurveRow,
  type TrainData,
  type TrainOptions,
  type TrainSummary,
} from '../../trainer/training/index.js';
import { choiceFlag, integerFlag, numberFlag, printJson } from '../options.js';
import { codeColumns, splitCode } from './aligned.js';

export interface TrainRunOptions {
  data?: string;
  preset?: string;
  /** Rows of a generated preset (default: the generator's). */
  n?: number;
  /** Seeds the synthetic data (for a preset) and the training. */
  seed: number;
  out: string;
  force?: boolean;
  steps?: number;
  batch?: number;
  lr?: number;
  evalEvery?: number;
  patience?: number;
  spWarmup?: number;
  /** Put back the best-validation parameters when training ends (default true). */
  restoreBest?: boolean;
  /** Learning-rate multiplier of the adjacency logits (default 4). */
  adjacencyLrScale?: number;
  /** Learning-rate multiplier of the code rotations' angles (default 10). */
  rotationLrScale?: number;
  backend?: string;
  alphaInd?: number;
  alphaSp?: number;
  alphaRecon?: number;
  encoder?: 'stochastic' | 'deterministic';
  kl?: 'sample' | 'aggregate';
  gate?: 'concrete' | 'sigmoid';
  intraModal?: boolean;
  /** Rotate each modality's code before the prior (model.rotation). */
  rotation?: boolean;
  hidden?: number;
  /** Output channels of the stride-2 conv layers of image and time-series encoders. */
  convChannels?: number[];
  /** Initial logit of every allowed edge of the adjacency gate. */
  initLogit?: number;
  /** A checkpoint directory to continue from (same architecture). */
  resume?: string;
  /**
   * Train this many initialisations (the first with `seed`) and keep the one with the lowest
   * validation loss (default 1).
   */
  restarts?: number;
  /** Where progress goes (default stderr). */
  progress?: { write(chunk: string): unknown; isTTY?: boolean };
}

export interface TrainResult {
  mcc: number | null;
  mcc_per_modality: Record<string, number> | null;
  /**
   * Per true latent, the estimated latent the per-modality matching pairs it with and their signed
   * correlation: which factors a run recovers, not only how many on average (null without truth).
   */
  mcc_per_latent: Record<string, MatchedLatent> | null;
  r2: number | null;
  /** Per true latent, the R² of its kernel ridge fit from the estimates (null without truth). */
  r2_per_latent: Record<string, number> | null;
  /**
   * MCC after the best rotation of each modality's whole code onto its truth (aligned-mcc.ts): how
   * much of the gap to 1 is the placement of latents in the code rather than their loss (null
   * without truth).
   */
  mcc_aligned: number | null;
  mcc_aligned_per_modality: Record<string, number | null> | null;
  shd: number | null;
  shd_cdt: number | null;
  /** Whether the truth meets the paper's structural conditions, its weakest edge (null without truth). */
  truth_identifiability: IdentifiabilitySummary | null;
  steps: number;
  stopped_early: boolean;
  /** Step of the evaluation with the lowest validation loss; with restore_best, the model's parameters. */
  best_step: number | null;
  wall_s: number;
  steps_per_s: number;
  backend: string;
  seed: number;
  /** With --restarts: every initialisation tried and which one was kept. */
  restarts?: { chosen: number; by: string; runs: RestartRecord[] };
  data: { source: string; n: number; modalities: ModalitySpec[] };
  hyperparameters: { model: Omit<ModelConfig, 'modalities'>; training: TrainOptions };
  edges: number;
  final: CurveRow | null;
}

export interface MatchedLatent {
  estimate: string;
  corr: number;
}

/** Inter-modal edges only (intra-modal edges are not scored). */
function interModal(graph: Graph): Graph {
  const mod = graph.nodes.map((n) => latentModality(n));
  return {
    nodes: graph.nodes,
    edges: graph.edges.filter(([a, b]) => mod[a] === undefined || mod[a] !== mod[b]),
  };
}

/** Trains and writes the run directory; returns what result.json holds. */
export async function runTraining(o: TrainRunOptions): Promise<TrainResult> {
  const input = await loadTrainingInput(o);
  const backend = await selectBackend(o.backend ?? 'auto');
  const data: TrainData = { n: input.n, blocks: input.blocks, presence: input.presence };
  const config = modelConfig(input.specs, {
    stochastic: (o.encoder ?? 'stochastic') === 'stochastic',
    ...(o.kl === undefined ? {} : { indEstimator: o.kl }),
    ...(o.hidden === undefined ? {} : { hidden: o.hidden }),
    ...(o.convChannels === undefined ? {} : { convChannels: o.convChannels }),
    ...(o.rotation === undefined ? {} : { rotation: o.rotation }),
    gate: {
      ...(o.gate === undefined ? {} : { kind: o.gate }),
      ...(o.intraModal === undefined ? {} : { intraModal: o.intraModal }),
      ...(o.initLogit === undefined ? {} : { initLogit: o.initLogit }),
    },
    alpha: {
      ...(o.alphaInd === undefined ? {} : { ind: o.alphaInd }),
      ...(o.alphaSp === undefined ? {} : { sp: o.alphaSp }),
      ...(o.alphaRecon === undefined ? {} : { recon: o.alphaRecon }),
    },
  });
  const options: TrainOptions = {
    ...DEFAULT_TRAIN,
    seed: o.seed,
    ...(o.steps === undefined ? {} : { steps: o.steps }),
    ...(o.batch === undefined ? {} : { batchSize: o.batch }),
    ...(o.lr === undefined ? {} : { lr: o.lr }),
    ...(o.evalEvery === undefined ? {} : { evalEvery: o.evalEvery }),
    ...(o.patience === undefined ? {} : { patience: o.patience }),
    ...(o.spWarmup === undefined ? {} : { sparsityWarmup: o.spWarmup }),
    ...(o.restoreBest === undefined ? {} : { restoreBest: o.restoreBest }),
    adam: {
      ...DEFAULT_TRAIN.adam,
      lrScale: {
        ...DEFAULT_TRAIN.adam.lrScale,
        ...(o.adjacencyLrScale === undefined ? {} : { 'adjacency/': o.adjacencyLrScale }),
        ...(o.rotationLrScale === undefined ? {} : { 'rotation/': o.rotationLrScale }),
      },
    },
  };
  try {
    // Refuse an existing run directory before spending the training time.
    StagedDirectory.open(o.out, { overwrite: o.force ?? false, flag: '--out' }).abort();
    return await trainAndWrite(o, input, backend.name, config, options, data);
  } finally {
    input.blocks.forEach((b) => b.close());
  }
}

async function trainAndWrite(
  o: TrainRunOptions,
  input: TrainingInput,
  backend: string,
  config: ModelConfig,
  options: TrainOptions,
  data: TrainData,
): Promise<TrainResult> {
  const restarts = o.restarts ?? 1;
  // The CLI flag is checked by its parser; benches and other callers pass the number directly.
  if (!Number.isSafeInteger(restarts) || restarts < 1) {
    throw invalidArgument(`must be a positive integer, got ${restarts}`, { field: '--restarts' });
  }
  if (restarts > 1 && o.resume !== undefined) {
    throw invalidArgument('continues one run; it cannot be combined with --restarts', { field: '--resume' });
  }
  // Participants who lack a modality have no estimate of its latents: blank in latents.csv, and
  // the scores use the participants complete in every modality.
  const missing = missingLatentCells(
    config.modalities.map((m) => m.latents),
    input.presence,
    data.n,
  );
  const complete = completeRows(input.presence, data.n);
  const reporter = progressReporter(o.progress ?? process.stderr, options.steps * restarts);
  let chosen: TrainedRun | undefined;
  const tried: RestartRecord[] = [];
  try {
    for (let r = 0; r < restarts; r++) {
      const run = await trainOnce(o, config, { ...options, seed: restartSeed(o.seed, r) }, data, reporter, r);
      // One encoding pass gives the scored latents and, for the kept run, the exogenous slots.
      const { latents: est, exogenous } = splitCode(run.engine.codes(), config, data.n);
      const graph = run.model.graph();
      const scores = scoreRun(input, run.model.layout.names, est, graph, complete);
      tried.push({
        seed: run.options.seed,
        best_val: run.summary.bestVal,
        best_step: run.summary.bestStep,
        mcc: scores.mcc,
        shd: scores.shd,
      });
      const better =
        chosen === undefined ||
        (run.summary.bestVal ?? Number.POSITIVE_INFINITY) <
          (chosen.summary.bestVal ?? Number.POSITIVE_INFINITY);
      if (better) {
        chosen?.dispose();
        chosen = { ...run, est, exogenous, graph, scores, index: r };
      } else {
        run.dispose();
      }
    }
    reporter.done();
    // restarts >= 1, so the loop kept one.
    const kept = chosen as TrainedRun;
    const { model, trainer, summary, est, exogenous, graph } = kept;
    const aligned =
      input.truth === undefined
        ? undefined
        : alignedMccOf(input.truth.latents, codeColumns(config), est, exogenous, complete);
    const r2 = r2Score(input, model.layout.names, est, complete);
    const scores = {
      ...kept.scores,
      r2: r2?.r2 ?? null,
      r2_per_latent: r2 === undefined ? null : { ...r2.per_column },
      mcc_aligned: aligned?.mcc_aligned ?? null,
      mcc_aligned_per_modality: aligned?.per_modality ?? null,
    };
    const exogenousCounts = config.modalities.map((m) => m.exogenous);
    const { modalities: _m, ...modelHyper } = config;
    const result: TrainResult = {
      ...scores,
      truth_identifiability:
        input.truth === undefined ? null : identifiabilitySummary(input.truth.identifiability),
      steps: summary.steps,
      stopped_early: summary.stoppedEarly,
      best_step: summary.bestStep,
      wall_s: summary.wallS,
      steps_per_s: summary.stepsPerSecond,
      backend,
      seed: o.seed,
      ...(restarts > 1
        ? { restarts: { chosen: kept.index, by: 'lowest validation loss', runs: tried } }
        : {}),
      data: {
        source: input.source,
        n: data.n,
        modalities: config.modalities,
        ...(complete === undefined ? {} : { complete_participants: complete.reduce((a, b) => a + b, 0) }),
        ...(input.participants === undefined ? {} : { keyed_by: 'participant_id' }),
      },
      hyperparameters: {
        model: modelHyper,
        training: { ...options, seed: kept.options.seed },
      },
      edges: graph.edges.length,
      final: summary.curve.at(-1) ?? null,
    };
    const ckpt = serializeCheckpoint(trainer);
    writeDirectoryAtomically(o.out, { overwrite: o.force ?? false, flag: '--out' }, (dir) => {
      dir.write('latents.csv', formatLatentsCsv(est, input.participants, missing));
      if (exogenousCounts.some((e) => e > 0)) {
        dir.write(
          'exogenous.csv',
          formatLatentsCsv(
            exogenous,
            input.participants,
            missingLatentCells(exogenousCounts, input.presence, data.n),
          ),
        );
      }
      dir.write('scaling.json', `${JSON.stringify(input.scaling, null, 2)}\n`);
      dir.write('graph.json', formatGraph(graph));
      dir.write('curve.csv', curveCsv(summary.curve));
      dir.write('checkpoint/manifest.json', ckpt.manifest);
      dir.write('checkpoint/weights.bin', ckpt.weights);
      dir.write('result.json', `${JSON.stringify(result, null, 2)}\n`);
    });
    return result;
  } finally {
    chosen?.dispose();
  }
}

type Scores = Pick<TrainResult, 'mcc' | 'mcc_per_modality' | 'mcc_per_latent' | 'shd' | 'shd_cdt'>;

/** One restart as trained, before it is compared with the others. */
interface OneRun {
  model: CrlModel;
  engine: LocalEngine;
  trainer: Trainer;
  options: TrainOptions;
  summary: TrainSummary;
  dispose(): void;
}

interface TrainedRun extends OneRun {
  est: Table;
  exogenous: Table;
  graph: Graph;
  scores: Scores;
  index: number;
}

/** What result.json says of each restart (the scores are reported, never used to choose). */
interface RestartRecord {
  seed: number;
  best_val: number | null;
  best_step: number | null;
  mcc: number | null;
  shd: number | null;
}

async function trainOnce(
  o: TrainRunOptions,
  config: ModelConfig,
  options: TrainOptions,
  data: TrainData,
  reporter: ReturnType<typeof progressReporter>,
  r: number,
): Promise<OneRun> {
  const model = new CrlModel(config, options.seed);
  const engine = new LocalEngine(model, data, options.adam);
  const trainer = new Trainer(engine, data.n, options);
  const dispose = (): void => {
    trainer.dispose();
    model.dispose();
  };
  try {
    if (o.resume !== undefined) restoreCheckpoint(trainer, readCheckpoint(o.resume), `--resume ${o.resume}`);
    // Restarts share one progress bar: each one's steps follow the previous ones'.
    const offset = r * options.steps;
    const summary = await trainer.run({
      onEval: (row) => reporter.onEval({ ...row, step: row.step + offset }),
    });
    return { model, engine, trainer, options, summary, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

/** The true latents and the estimates, in matching columns, over the complete rows. */
function againstTruth(
  input: TrainingInput,
  names: readonly string[],
  est: Table,
  complete: Uint8Array | undefined,
): { truth: Table; scored: Table; graph: Graph } | undefined {
  if (input.truth === undefined) return undefined;
  const truthCols = names.map((c) => input.truth?.latents.columns.indexOf(c) ?? -1);
  return {
    truth: selectRows(selectColumns(input.truth.latents, truthCols), complete),
    scored: selectRows(est, complete),
    graph: input.truth.graph,
  };
}

/**
 * MCC and SHD against the truth, when the data carry it (nulls otherwise). R² (a kernel ridge fit,
 * the slow one) is computed for the kept restart only (`r2Score`).
 */
function scoreRun(
  input: TrainingInput,
  names: readonly string[],
  est: Table,
  graph: Graph,
  complete: Uint8Array | undefined,
): Scores {
  const t = againstTruth(input, names, est, complete);
  if (t === undefined)
    return { mcc: null, mcc_per_modality: null, mcc_per_latent: null, shd: null, shd_cdt: null };
  const m = mcc(t.truth, t.scored);
  const perModality = m.per_modality ?? {};
  const matching = blockMatching(m);
  const relabel = matchingToRelabel(matching);
  const s = shd(interModal(t.graph), interModal(graph), { relabel });
  return {
    mcc: m.mcc,
    mcc_per_modality: Object.fromEntries(Object.entries(perModality).map(([k, v]) => [k, v.mcc])),
    mcc_per_latent: Object.fromEntries(
      matching.map((p) => [p.truth, { estimate: p.estimate, corr: p.corr }]),
    ),
    shd: s.shd_directed,
    shd_cdt: s.shd_cdt,
  };
}

/** R² of the true latents from the estimates, overall and per true latent (undefined without truth). */
function r2Score(
  input: TrainingInput,
  names: readonly string[],
  est: Table,
  complete: Uint8Array | undefined,
): { r2: number; per_column: Readonly<Record<string, number>> } | undefined {
  const t = againstTruth(input, names, est, complete);
  return t === undefined ? undefined : kernelRidgeR2(t.truth, t.scored);
}

interface TrainFlags {
  data?: string;
  preset?: string;
  n?: number;
  seed: number;
  out: string;
  steps?: number;
  batch?: number;
  lr?: number;
  evalEvery?: number;
  patience?: number;
  spWarmup?: number;
  restoreBest: boolean;
  adjacencyLrScale?: number;
  rotationLrScale?: number;
  backend: string;
  alphaInd?: number;
  alphaSp?: number;
  alphaRecon?: number;
  encoder: 'stochastic' | 'deterministic';
  kl: 'sample' | 'aggregate';
  gate: 'concrete' | 'sigmoid';
  intraModal?: boolean;
  rotation?: boolean;
  hidden?: number;
  convChannels?: number[];
  initLogit?: number;
  resume?: string;
  restarts?: number;
  force?: boolean;
}

export function registerTrainCommand(program: Command): void {
  const nonNegative = (flag: string) => numberFlag(flag, { min: 0 });
  program
    .command('train')
    .description(
      'train the causal multimodal model; writes latents.csv, graph.json, curve.csv, checkpoint/, result.json',
    )
    .option('--data <dir>', 'dataset directory (dataset.json)')
    .option('--preset <name>', `synthetic preset, generated in memory: ${Object.keys(PRESETS).join(', ')}`)
    .option('--n <rows>', 'rows of the generated preset', integerFlag('--n', { min: 10 }))
    .option(
      '--seed <s>',
      'seed of the training (and of the preset data)',
      integerFlag('--seed', { min: 0 }),
      0,
    )
    .requiredOption('--out <dir>', 'run directory')
    .option(
      '--steps <n>',
      `maximum optimizer steps (default ${DEFAULT_TRAIN.steps})`,
      integerFlag('--steps', { min: 1 }),
    )
    .option(
      '--batch <b>',
      `batch size (default ${DEFAULT_TRAIN.batchSize})`,
      integerFlag('--batch', { min: 1 }),
    )
    .option(
      '--lr <x>',
      `learning rate (default ${DEFAULT_TRAIN.lr})`,
      numberFlag('--lr', { min: 0, exclusiveMin: true }),
    )
    .option(
      '--eval-every <n>',
      `steps between evaluations (default ${DEFAULT_TRAIN.evalEvery})`,
      integerFlag('--eval-every', { min: 1 }),
    )
    .option(
      '--patience <n>',
      `early stopping after n evaluations without improvement, 0 never (default ${DEFAULT_TRAIN.patience})`,
      integerFlag('--patience', { min: 0 }),
    )
    .option(
      '--sp-warmup <f>',
      'fraction of the steps over which alpha_Sp ramps up from 0 (default 0.3)',
      numberFlag('--sp-warmup', { min: 0, max: 1 }),
    )
    .option(
      '--no-restore-best',
      "keep the last step's parameters instead of those of the best validation loss",
    )
    .option(
      '--adjacency-lr-scale <x>',
      'learning-rate multiplier of the adjacency logits (default 4)',
      numberFlag('--adjacency-lr-scale', { min: 0, exclusiveMin: true }),
    )
    .option(
      '--rotation-lr-scale <x>',
      "learning-rate multiplier of the code rotations' angles (default 10)",
      numberFlag('--rotation-lr-scale', { min: 0, exclusiveMin: true }),
    )
    .option(
      '--backend <b>',
      `TensorFlow.js backend: ${BACKEND_CHOICES.join(', ')}`,
      choiceFlag('--backend', BACKEND_CHOICES),
      'auto',
    )
    .option('--alpha-ind <x>', 'weight of L_Ind (default 0.1)', nonNegative('--alpha-ind'))
    .option('--alpha-sp <x>', 'weight of L_Sp (default 0.01)', nonNegative('--alpha-sp'))
    .option('--alpha-recon <x>', 'weight of L_Recon (default 1)', nonNegative('--alpha-recon'))
    .option(
      '--encoder <kind>',
      'stochastic (VAE, bounded L_Ind) or deterministic',
      choiceFlag('--encoder', ['stochastic', 'deterministic'] as const),
      'stochastic',
    )
    .option(
      '--kl <estimator>',
      'L_Ind with the stochastic encoder: sample (per-sample KL) or aggregate (minibatch KL of the aggregate posterior)',
      choiceFlag('--kl', ['sample', 'aggregate'] as const),
      'aggregate',
    )
    .option(
      '--gate <kind>',
      'adjacency gate: concrete or sigmoid',
      choiceFlag('--gate', ['concrete', 'sigmoid'] as const),
      'concrete',
    )
    .option('--intra-modal', 'allow edges inside a modality')
    .option('--no-rotation', "turn off the code rotations (the prior sees each modality's code as encoded)")
    .option(
      '--init-logit <l>',
      'initial logit of every allowed edge (default 2: start dense, let sparsity prune)',
      numberFlag('--init-logit'),
    )
    .option('--hidden <h>', 'encoder/decoder width (default 64)', integerFlag('--hidden', { min: 1 }))
    .option(
      '--conv-channels <c>',
      'channels of the stride-2 conv layers of image and time-series encoders, e.g. 16,32 (the default)',
      (v: string) => v.split(',').map(integerFlag('--conv-channels', { min: 1 })),
    )
    .option('--resume <dir>', 'continue from a checkpoint directory (same architecture)')
    .option(
      '--restarts <k>',
      'train k initialisations (the first with --seed) and keep the lowest validation loss (default 1)',
      integerFlag('--restarts', { min: 1 }),
    )
    .option('--force', 'replace an existing run directory')
    .action(async (flags: TrainFlags) => {
      const result = await runTraining({ ...flags });
      printJson(result);
    });
}
