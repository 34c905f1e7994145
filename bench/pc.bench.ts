/**
 * Timing of PC: Fisher-z on linear-Gaussian data of 20, 50 and 100 variables x 10,000 rows
 * (random sparse DAGs, expected degree 2.5), and KCI on 5 nonlinear variables x 500 rows. PC time
 * includes building the CI test (for Fisher-z, the correlation matrix); data generation does not
 * count. One warm-up run, then timed runs; medians; prints one JSON object.
 *
 *   npm run bench:pc [-- --runs 5]
 */
import { fromColumns, type Table } from '../common/matrix.js';
import { Rng } from '../common/random.js';
import type { CiTest } from '../evaluator/ci/ci-test.js';
import { FisherZTest } from '../evaluator/ci/fisher-z.js';
import { KciTest } from '../evaluator/ci/kci.js';
import { shd } from '../evaluator/metrics/index.js';
import { cpdagOfDag } from '../evaluator/pc/cpdag.js';
import { pc } from '../evaluator/pc/pc.js';
import { randomDag, randomLinearSem, sampleLinearSem } from '../evaluator/pc/simulate.js';
import type { Graph } from '../common/graph.js';
import { timed } from './timing.js';

const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;

function report(dag: Graph, data: Table, makeTest: (t: Table) => CiTest, runs: number, targetMs?: number) {
  const { timing, result } = timed(runs, () => pc(makeTest(data)));
  const score = shd(cpdagOfDag(dag), result.graph.toGraph(dag.nodes));
  return {
    variables: data.columns.length,
    rows: data.nRows,
    true_edges: dag.edges.length,
    ...timing,
    ...(targetMs !== undefined ? { target_ms: targetMs, within_target: timing.median_ms < targetMs } : {}),
    ci_tests: result.ciTests,
    depth: result.depth,
    edges_found: result.graph.edgeCount(),
    shd_vs_true_cpdag: score.shd,
  };
}

function linear(p: number, n: number) {
  const rng = new Rng(`bench-pc-${p}x${n}`);
  const dag = randomDag(p, 2.5, rng);
  return { dag, data: sampleLinearSem(randomLinearSem(dag, rng), n, rng) };
}

/** Nonlinear additive-noise model with uniform noise on a random 5-node DAG. */
function nonlinear(p: number, n: number) {
  const rng = new Rng(`bench-kci-${p}x${n}`);
  const dag = randomDag(p, 2, rng);
  const parents: number[][] = Array.from({ length: p }, () => []);
  for (const [a, b] of dag.edges) parents[b]!.push(a);
  const order = [...Array(p).keys()].sort((a, b) => rank(dag, a) - rank(dag, b));
  const cols = Array.from({ length: p }, () => new Float64Array(n));
  const fns = [Math.sin, Math.tanh, (x: number) => x * x, Math.cos];
  for (let i = 0; i < n; i++) {
    for (const j of order) {
      let x = rng.between(-1, 1);
      for (const [k, a] of parents[j]!.entries()) x += fns[(j + k) % fns.length]!(1.5 * cols[a]![i]!);
      cols[j]![i] = x;
    }
  }
  return { dag, data: fromColumns(dag.nodes, cols) };
}

/** Depth of a node in the DAG (its longest chain of ancestors): a valid causal order. */
function rank(dag: Graph, v: number, memo = new Map<number, number>()): number {
  const known = memo.get(v);
  if (known !== undefined) return known;
  const parents = dag.edges.filter((e) => e[1] === v).map((e) => e[0]);
  const r = parents.length === 0 ? 0 : 1 + Math.max(...parents.map((u) => rank(dag, u, memo)));
  memo.set(v, r);
  return r;
}

const fisherz = (t: Table): CiTest => new FisherZTest(t);
const kci = (t: Table): CiTest => new KciTest(t);
const l20 = linear(20, 10_000);
const l50 = linear(50, 10_000);
const l100 = linear(100, 10_000);
const k5 = nonlinear(5, 500);

process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'pc',
      node: process.version,
      settings: { alpha: 0.05, stable: true, uc_rule: 'sepset', uc_priority: 'existing' },
      fisherz_20x10000: report(l20.dag, l20.data, fisherz, RUNS, 50),
      fisherz_50x10000: report(l50.dag, l50.data, fisherz, RUNS),
      fisherz_100x10000: report(l100.dag, l100.data, fisherz, RUNS, 2000),
      kci_5x500: report(k5.dag, k5.data, kci, Math.min(RUNS, 3)),
    },
    null,
    2,
  )}\n`,
);
