/**
 * `crl demo`: the main job until training and the local cluster land. It runs the whole
 * evaluation path end to end on the paper's case 1: generate data with ground truth, estimate
 * latents (per-modality PCA, the linear baseline), score them against the truth, discover the
 * graph among them with PC (modality order as background knowledge) and score it with SHD.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCsv } from '../../common/csv.js';
import { formatGraph, latentModality } from '../../common/graph.js';
import { CrlError } from '../../common/errors.js';
import { makeTable, type Table } from '../../common/matrix.js';
import { StagedDirectory } from '../../common/output-dir.js';
import {
  Background,
  graphToSvg,
  kernelRidgeR2,
  matchingToRelabel,
  mcc,
  pcOnTable,
  shd,
} from '../../evaluator/index.js';
import { pcaLatents } from '../../trainer/baselines/pca.js';
import { loadDataset, loadTruth } from '../../trainer/data/dataset.js';
import { generateSynthetic } from '../../trainer/data/synthetic/generate.js';
import { PRESETS, resolveSpec } from '../../trainer/data/synthetic/spec.js';
import { writeSyntheticDataset } from '../../trainer/data/synthetic/write.js';
import { integerFlag, printJson } from '../options.js';

interface DemoFlags {
  out: string;
  preset: string;
  seed: number;
  n?: number;
}

const DEMO_JOB = 'demo';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'main job: generate a synthetic dataset, estimate latents (PCA baseline), score against the truth',
    )
    .option('--out <dir>', 'run directory (a previous demo run there is replaced)', 'runs/demo')
    .option('--preset <name>', `dataset preset: ${Object.keys(PRESETS).join(', ')}`, 'c1')
    .option('--seed <s>', 'random seed', integerFlag('--seed', { min: 0 }), 1)
    .option('--n <rows>', 'number of samples (default 10000)', integerFlag('--n', { min: 10 }))
    .action(async (flags: DemoFlags) => {
      printJson(await runDemo(flags));
    });
}

export async function runDemo(flags: DemoFlags): Promise<Record<string, unknown>> {
  const started = performance.now();
  guardRunDirectory(flags.out);
  const spec = resolveSpec(flags.preset, {
    seed: flags.seed,
    ...(flags.n !== undefined ? { n: flags.n } : {}),
  });

  // Everything is written to a staging directory; the run directory appears only when complete.
  const run = StagedDirectory.open(flags.out, { overwrite: true, flag: '--out' });
  try {
    // The dataset goes through its on-disk format and back, so the demo exercises the loader the
    // trainers will use.
    const dataDir = join(run.staging, 'data');
    writeSyntheticDataset(generateSynthetic(spec), dataDir, { name: flags.preset, preset: flags.preset });
    const loaded = loadDataset(dataDir);
    const truth = loadTruth(dataDir, loaded.manifest);
    if (truth === undefined) throw new CrlError('INTERNAL', 'generated dataset has no truth');

    const blocks = loaded.modalities.map((m, i) =>
      pcaLatents(m.observations, m.manifest.latents ?? 1, i + 1),
    );
    const estimate = concatColumns(blocks);
    const mccResult = mcc(truth.latents, estimate);
    const r2Result = kernelRidgeR2(truth.latents, estimate);
    const discovered = pcOnTable(estimate, { alpha: PC_ALPHA, background: modalityOrder(estimate.columns) });
    const learned = discovered.graph.toGraph(estimate.columns, { source: 'pc', alpha: PC_ALPHA });
    // Estimated latents are only identified up to permutation: compare graphs after matching.
    const shdResult = shd(truth.graph, learned, { relabel: matchingToRelabel(mccResult.matching) });

    const result = {
      job: DEMO_JOB,
      estimator: 'pca-per-modality',
      dataset: { preset: flags.preset, seed: spec.seed, n: spec.n, dir: join(flags.out, 'data') },
      mcc: mccResult.mcc,
      mcc_per_modality: Object.fromEntries(
        Object.entries(mccResult.per_modality ?? {}).map(([m, s]) => [m, s.mcc]),
      ),
      matching: mccResult.matching,
      r2: r2Result.r2,
      r2_per_modality: Object.fromEntries(
        Object.entries(r2Result.per_modality ?? {}).map(([m, s]) => [m, s.r2]),
      ),
      r2_protocol: { protocol: r2Result.protocol, n_train: r2Result.n_train, n_test: r2Result.n_test },
      graph: {
        method: 'pc-fisherz',
        alpha: PC_ALPHA,
        background: 'modality order',
        ci_tests: discovered.ciTests,
      },
      shd: shdResult.shd_directed,
      shd_cdt: shdResult.shd_cdt,
      shd_skeleton: shdResult.shd_skeleton,
      graph_differences: {
        missing: shdResult.missing,
        extra: shdResult.extra,
        reversed: shdResult.reversed,
        misoriented: shdResult.misoriented,
      },
      wall_s: 0,
    };
    run.write('latents.csv', formatCsv(estimate));
    run.write('graph.json', formatGraph(learned));
    run.write('graph.svg', await graphToSvg(learned));
    result.wall_s = Number(((performance.now() - started) / 1000).toFixed(3));
    run.write('result.json', `${JSON.stringify(result, null, 2)}\n`);
    run.commit();
    return { ...result, out: flags.out, matching: undefined };
  } catch (err) {
    run.abort();
    throw err;
  }
}

const PC_ALPHA = 0.05;

/** Modality order as PC background knowledge: causes come from the same or an earlier modality. */
function modalityOrder(columns: readonly string[]): Background {
  const modalities = [...new Set(columns.map((c) => latentModality(c) ?? 0))].sort((x, y) => x - y);
  const tiers = modalities.map((m) => columns.filter((c) => (latentModality(c) ?? 0) === m));
  return Background.fromSpec({ tiers }, columns);
}

/** The demo replaces its own previous run, but nothing else that happens to live at --out. */
function guardRunDirectory(out: string): void {
  if (!existsSync(out)) return;
  const marker = join(out, 'result.json');
  let job: unknown;
  try {
    job = (JSON.parse(readFileSync(marker, 'utf8')) as { job?: unknown }).job;
  } catch {
    job = undefined;
  }
  if (job !== DEMO_JOB) {
    throw new CrlError(
      'ALREADY_EXISTS',
      `${out} exists and is not a previous demo run; choose another --out`,
      {
        field: '--out',
      },
    );
  }
}

function concatColumns(tables: readonly Table[]): Table {
  const n = tables[0]?.nRows ?? 0;
  const columns = tables.flatMap((t) => t.columns);
  const p = columns.length;
  const data = new Float64Array(n * p);
  let offset = 0;
  for (const t of tables) {
    const q = t.columns.length;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < q; j++) data[i * p + offset + j] = t.data[i * q + j] as number;
    offset += q;
  }
  return makeTable(columns, n, data);
}
