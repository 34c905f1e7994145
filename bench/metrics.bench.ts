/**
 * Timing of the identifiability metrics at the sizes they meet in practice: MCC over 100,000 rows
 * of 40 true vs 40 estimated latents, and kernel-ridge R² over 10,000 rows of 8 latents (held-out
 * protocol, default training cap). One warm-up run, then timed runs; prints one JSON object.
 *
 *   npm run bench:metrics [-- --runs 5]
 */
import { fromColumns, type Table } from '../common/matrix.js';
import { Rng } from '../common/random.js';
import { kernelRidgeR2, mcc } from '../evaluator/index.js';
import { timed } from './timing.js';

const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;

/** Truth: independent normals. Estimate: a noisy, permuted, rescaled copy, as a trained model gives. */
function latents(seed: string, n: number, p: number): { truth: Table; estimate: Table } {
  const rng = new Rng(seed);
  const truth = Array.from({ length: p }, () => Float64Array.from({ length: n }, () => rng.normal()));
  const perm = rng.permutation(p);
  const estimate = perm.map((src) => {
    const scale = rng.sign() * (0.5 + rng.uniform());
    return Float64Array.from(truth[src]!, (v) => scale * (Math.tanh(v) + 0.3 * v) + 0.2 * rng.normal());
  });
  const names = (prefix: string) => Array.from({ length: p }, (_, j) => `${prefix}${j}`);
  return { truth: fromColumns(names('t'), truth), estimate: fromColumns(names('e'), estimate) };
}

const big = latents('bench-mcc', 100_000, 40);
const pearson = timed(RUNS, () => mcc(big.truth, big.estimate));
const spearman = timed(RUNS, () => mcc(big.truth, big.estimate, { method: 'spearman' }));
const mid = latents('bench-r2', 10_000, 8);
const r2 = timed(RUNS, () => kernelRidgeR2(mid.truth, mid.estimate));

process.stdout.write(
  `${JSON.stringify(
    {
      node: process.version,
      cases: [
        {
          name: 'mcc-pearson',
          n_rows: 100_000,
          n_truth: 40,
          n_estimate: 40,
          ...pearson.timing,
          mcc: pearson.result.mcc,
        },
        {
          name: 'mcc-spearman',
          n_rows: 100_000,
          n_truth: 40,
          n_estimate: 40,
          ...spearman.timing,
          mcc: spearman.result.mcc,
        },
        {
          name: 'r2-kernel-ridge-heldout',
          n_rows: 10_000,
          n_truth: 8,
          n_estimate: 8,
          n_train: r2.result.n_train,
          n_test: r2.result.n_test,
          ...r2.timing,
          r2: r2.result.r2,
        },
      ],
    },
    null,
    2,
  )}\n`,
);
