/**
 * The phenotype experiment (paper §6.3, issue 7): generate the synthetic phenotype cohort, train
 * the model on its four modalities (two fundus image modalities, sleep series, blood tests), score
 * the latents against the truth, then run `crl analyze` over the learned latents plus the
 * phenotypes (age and sex have no parents) and compare its graph with the designed one
 * (truth/analysis-graph.json, as a CPDAG), after renaming each estimated latent to the true latent
 * its modality's MCC matching pairs it with. Prints one JSON object; the run and the analysis stay
 * in --out.
 *
 *   npm run bench:phenotype [-- --n 10000 --seed 1 --steps 1500 --out runs/bench-phenotype]
 *                           [--alpha-ind X --alpha-sp X --alpha-recon X]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readKeyedCsv } from '../common/csv.js';
import { readGraph } from '../common/graph.js';
import { selectColumns, selectRows } from '../common/matrix.js';
import { blockMatching, cpdagOfDag, matchingToRelabel, mcc, shd } from '../evaluator/index.js';
import { runTraining } from '../cli/commands/train.js';
import { writePhenotypeCohort } from '../trainer/data/phenotype/write.js';
import { fraction, nonNegativeInt, positiveInt } from './args.js';

const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    steps: { type: 'string', default: '1500' },
    batch: { type: 'string', default: '256' },
    out: { type: 'string', default: 'runs/bench-phenotype' },
    alpha: { type: 'string', default: '0.01' },
    // Loss weights of the model (default the paper's 0.1 / 0.01 / 1).
    'alpha-ind': { type: 'string' },
    'alpha-sp': { type: 'string' },
    'alpha-recon': { type: 'string' },
  },
});
const seed = nonNegativeInt('seed', flags.seed);
const n = positiveInt('n', flags.n);
const steps = positiveInt('steps', flags.steps);
const batch = positiveInt('batch', flags.batch);
const alpha = fraction('alpha', flags.alpha);
const out = flags.out;
const data = join(out, 'cohort');
const run = join(out, 'run');
const analysis = join(out, 'analysis');
/** A loss-weight flag as a runTraining option (absent: the default). */
function weight(flag: 'alpha-ind' | 'alpha-sp' | 'alpha-recon', key: string): Record<string, number> {
  const v = flags[flag];
  if (v === undefined) return {};
  const x = Number(v);
  if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`--${flag} must be a finite number >= 0, got ${v}`);
  return { [key]: x };
}
const log = (msg: string) => process.stderr.write(`[phenotype] ${msg}\n`);

log(`generating n = ${n}`);
let t = performance.now();
await writePhenotypeCohort(data, { n, seed, overwrite: true });
const generateS = (performance.now() - t) / 1000;

log(`training ${steps} steps`);
const result = await runTraining({
  data,
  seed,
  out: run,
  force: true,
  steps,
  batch,
  progress: process.stderr,
  ...weight('alpha-ind', 'alphaInd'),
  ...weight('alpha-sp', 'alphaSp'),
  ...weight('alpha-recon', 'alphaRecon'),
});

log('analysing');
const bk = join(out, 'background.json');
writeFileSync(
  bk,
  JSON.stringify({
    forbidden: [
      ['*', 'age'],
      ['*', 'sex'],
    ],
  }),
);
t = performance.now();
const r = spawnSync(
  process.execPath,
  ['bin/crl.js', 'analyze', '--run', run, '--tabular', join(data, 'phenotypes.csv')].concat([
    '--background',
    bk,
    '--alpha',
    flags.alpha,
    '--out',
    analysis,
    '--force',
  ]),
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
if (r.status !== 0) throw new Error(`crl analyze failed (exit ${r.status})`);
const analyseS = (performance.now() - t) / 1000;

// Rename estimated latents to the true ones their modality's matching pairs them with.
const est = readKeyedCsv(join(run, 'latents.csv'), 'participant_id', { allowBlank: true });
const keep = new Uint8Array(est.table.nRows);
const p = est.table.columns.length;
for (let i = 0; i < est.table.nRows; i++) {
  keep[i] = est.table.data.subarray(i * p, i * p + p).every((v) => !Number.isNaN(v)) ? 1 : 0;
}
const truthKeyed = readKeyedCsv(join(data, 'truth', 'latents.csv'), 'participant_id');
const truthRow = new Map(truthKeyed.ids.map((id, i) => [id, i]));
const order = est.ids.map((id) => truthRow.get(id) as number);
const truthAligned = selectColumns(
  {
    columns: truthKeyed.table.columns,
    nRows: order.length,
    data: Float64Array.from(
      order.flatMap((r) => [
        ...truthKeyed.table.data.subarray(
          r * truthKeyed.table.columns.length,
          (r + 1) * truthKeyed.table.columns.length,
        ),
      ]),
    ),
  },
  est.table.columns.map((c) => truthKeyed.table.columns.indexOf(c)),
);
const m = mcc(selectRows(truthAligned, keep), selectRows(est.table, keep));
const relabel = matchingToRelabel(blockMatching(m));
const learned = readGraph(join(analysis, 'graph.json'));
const designed = readGraph(join(data, 'truth', 'analysis-graph.json'));
const s = shd(cpdagOfDag(designed), learned, { relabel });
const report = readFileSync(join(analysis, 'report.md'), 'utf8');

console.log(
  JSON.stringify({
    bench: 'phenotype',
    n,
    seed,
    steps: result.steps,
    backend: result.backend,
    generate_s: generateS,
    train_wall_s: result.wall_s,
    analyse_s: analyseS,
    mcc: result.mcc,
    mcc_per_modality: result.mcc_per_modality,
    mcc_aligned: result.mcc_aligned,
    // Which latents the run found; the unlinked ones (no inter-modal edge) are outside paper §4.
    mcc_per_latent: result.mcc_per_latent,
    unlinked_latents: result.truth_identifiability?.unlinked ?? null,
    r2: result.r2,
    r2_per_latent: result.r2_per_latent,
    complete_participants: (result.data as { complete_participants?: number }).complete_participants,
    analysis: {
      alpha,
      edges_learned: learned.edges.length,
      edges_designed: designed.edges.length,
      shd_vs_designed_cpdag: s.shd_directed,
      shd_cdt: s.shd_cdt,
      shd_skeleton: s.shd_skeleton ?? null,
    },
    report_lines: report.split('\n').length,
  }),
);
