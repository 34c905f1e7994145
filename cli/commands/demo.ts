/**
 * `crl demo`: the main job until training and the local cluster land. It runs the whole
 * evaluation path end to end on the paper's case 1: generate data with ground truth, estimate
 * latents (per-modality PCA, the linear baseline), and score them against the truth.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCsv } from '../../common/csv.js';
import { CrlError } from '../../common/errors.js';
import { makeTable, type Table } from '../../common/matrix.js';
import { writeDirectoryAtomically } from '../../common/output-dir.js';
import { kernelRidgeR2, mcc } from '../../evaluator/index.js';
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
    .action((flags: DemoFlags) => {
      printJson(runDemo(flags));
    });
}

export function runDemo(flags: DemoFlags): Record<string, unknown> {
  const started = performance.now();
  guardRunDirectory(flags.out);
  const spec = resolveSpec(flags.preset, {
    seed: flags.seed,
    ...(flags.n !== undefined ? { n: flags.n } : {}),
  });

  return writeDirectoryAtomically(flags.out, { overwrite: true, flag: '--out' }, (run) => {
    // The dataset goes through its on-disk format and back, so the demo exercises the loader the
    // trainers will use.
    const dataDir = join(run.staging, 'data');
    writeSyntheticDataset(generateSynthetic(spec), dataDir, { name: flags.preset, preset: flags.preset });
    const dataset = loadDataset(dataDir);
    const truth = loadTruth(dataDir, dataset.manifest);
    if (truth === undefined) throw new CrlError('INTERNAL', 'generated dataset has no truth');

    const blocks = dataset.modalities.map((m, i) =>
      pcaLatents(m.observations, m.manifest.latents ?? 1, i + 1),
    );
    const estimate = concatColumns(blocks);
    const mccResult = mcc(truth.latents, estimate);
    const r2Result = kernelRidgeR2(truth.latents, estimate);

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
      r2_protocol: {
        protocol: r2Result.protocol,
        n_train: r2Result.n_train,
        n_test: r2Result.n_test,
        alpha: r2Result.alpha,
      },
      truth_graph: { nodes: truth.graph.nodes, edges: truth.graph.edges },
      wall_s: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
    run.write('latents.csv', formatCsv(estimate));
    run.write('result.json', `${JSON.stringify(result, null, 2)}\n`);
    return { ...result, out: flags.out, matching: undefined };
  });
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
