/** `crl pc`: the PC algorithm on the columns of a CSV, writing the CPDAG as JSON, DOT and SVG. */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { readNumericCsv } from '../../common/csv.js';
import { formatGraph, isDag, readGraph, type Graph } from '../../common/graph.js';
import { writeFileAtomically } from '../../common/output-dir.js';
import { createCiTest, type CiTestKind } from '../../evaluator/ci/index.js';
import { renderSvg, toDot } from '../../evaluator/export/index.js';
import { shd } from '../../evaluator/metrics/index.js';
import {
  bootstrapPc,
  cpdagOfDag,
  pc,
  resolvePcOptions,
  type BootstrapResult,
  type ColliderRule,
} from '../../evaluator/pc/index.js';
import { pcFlags, pcOptionsOf, pcProvenance } from '../pc-flags.js';
import { integerFlag, printJson } from '../options.js';

interface PcFlags {
  data: string;
  out: string;
  alpha: number;
  test: CiTestKind;
  stable: boolean;
  ucRule: ColliderRule;
  ucPriority?: number;
  maxK?: number;
  background?: string;
  bootstrap?: number;
  seed: number;
  truth?: string;
  dot?: string;
  svg?: string;
}

/** Adds `crl pc` to the program. */
export function registerPcCommands(program: Command): void {
  pcFlags(
    program
      .command('pc')
      .description("PC causal discovery on a CSV's columns; writes the CPDAG (node names = CSV header)")
      .requiredOption('--data <csv>', 'numeric CSV with a header row; one variable per column')
      .requiredOption('--out <json>', 'output graph JSON ("---" = undirected CPDAG edge)')
      .option(
        '--max-k <k>',
        'largest conditioning set (default: no limit)',
        integerFlag('--max-k', { min: 0 }),
      )
      .option('--background <json>', 'background knowledge: forbidden / required edges, tiers')
      .option(
        '--bootstrap <B>',
        'also run PC on B row resamples; edge frequencies go to the output',
        integerFlag('--bootstrap', { min: 1 }),
      )
      .option('--seed <s>', 'seed of the bootstrap resampling', integerFlag('--seed', { min: 0 }), 0)
      .option('--truth <json>', 'true graph (node names as the CSV header): prints the SHD')
      .option('--dot <file>', 'also write Graphviz DOT')
      .option('--svg <file>', 'also write an SVG drawing (nodes coloured by modality)'),
  ).action(async (flags: PcFlags) => {
    await runPc(flags);
  });
}

async function runPc(flags: PcFlags): Promise<void> {
  const table = readNumericCsv(flags.data);
  const names = table.columns;
  const options = pcOptionsOf(flags, names, flags.maxK);
  const resolved = resolvePcOptions(options);
  const truth = flags.truth !== undefined ? readGraph(flags.truth) : undefined;

  const started = performance.now();
  const result = pc(createCiTest(flags.test, table), options);
  const seconds = (performance.now() - started) / 1000;

  let boot: (BootstrapResult & { seconds: number }) | undefined;
  if (flags.bootstrap !== undefined) {
    const t0 = performance.now();
    const r = bootstrapPc(table, {
      ...options,
      test: flags.test,
      resamples: flags.bootstrap,
      seed: flags.seed,
    });
    boot = { ...r, seconds: (performance.now() - t0) / 1000 };
  }

  const provenance = pcProvenance(flags.test, resolved, result.ciTests, table.nRows, basename(flags.data));
  const graph = result.graph.toGraph(names, {
    pc: provenance,
    ...(boot
      ? {
          bootstrap: {
            resamples: boot.resamples,
            completed: boot.completed,
            seed: boot.seed,
            edges: boot.edges,
          },
        }
      : {}),
  });

  // Score and render everything before writing anything, so a failure leaves no partial set of outputs.
  const score = truth ? scoreAgainst(truth, graph, flags.truth as string) : undefined;
  const outputs: [string, string][] = [[flags.out, formatGraph(graph)]];
  const dot =
    flags.dot !== undefined || flags.svg !== undefined
      ? toDot(graph, boot ? { frequencies: boot.edges } : {})
      : '';
  if (flags.dot !== undefined) outputs.push([flags.dot, dot]);
  if (flags.svg !== undefined) outputs.push([flags.svg, await renderSvg(dot)]);
  for (const [path, text] of outputs) writeFileAtomically(path, text);

  const edges = graph.edges;
  printJson({
    out: flags.out,
    nodes: names.length,
    edges: edges.length + result.graph.bidirectedPairs().length,
    directed: edges.filter((e) => e[2] === '-->').length,
    undirected: edges.filter((e) => e[2] === '---').length,
    bidirected: result.graph.bidirectedPairs().length,
    depth: result.depth,
    seconds: round(seconds),
    ...provenance,
    ...(score ? { shd: score } : {}),
    ...(boot
      ? { bootstrap: { resamples: boot.resamples, completed: boot.completed, seconds: round(boot.seconds) } }
      : {}),
    ...(flags.dot !== undefined ? { dot: flags.dot } : {}),
    ...(flags.svg !== undefined ? { svg: flags.svg } : {}),
  });
}

/** SHD against the truth as given and, when the truth is a DAG, against its CPDAG (what PC can recover). */
function scoreAgainst(truth: Graph, estimate: Graph, file: string): Record<string, unknown> {
  const labels = { truth: file, estimate: 'PC output' };
  const asGiven = shd(truth, estimate, { labels });
  const out: Record<string, unknown> = {
    shd: asGiven.shd,
    shd_cdt: asGiven.shd_cdt,
    shd_skeleton: asGiven.shd_skeleton,
    missing: asGiven.missing,
    extra: asGiven.extra,
    reversed: asGiven.reversed,
    misoriented: asGiven.misoriented,
  };
  if (isDag(truth)) {
    const vsCpdag = shd(cpdagOfDag(truth), estimate, { labels });
    out['shd_vs_truth_cpdag'] = vsCpdag.shd;
    out['shd_cdt_vs_truth_cpdag'] = vsCpdag.shd_cdt;
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
