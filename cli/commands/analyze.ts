/**
 * `crl analyze`: the paper's phenotype analysis (section 6.3, Figure 6). PC over a training run's
 * learned latents joined with extra tabular variables (age, sex, grip strength, ...), writing the
 * CPDAG, a drawing coloured by modality, and a report of the edges that touch each latent.
 */
import type { Command } from 'commander';
import { basename, join } from 'node:path';
import { invalidArgument } from '../../common/errors.js';
import { formatGraph } from '../../common/graph.js';
import { writeDirectoryAtomically } from '../../common/output-dir.js';
import {
  buildAnalysis,
  DEFAULT_ID_COLUMN,
  drawingGroupOf,
  formatReport,
  groupVariables,
  joinLatentsWithTabular,
  readJoinSource,
  readRunLatents,
  type AnalysisContext,
} from '../../evaluator/analysis/index.js';
import { createCiTest, type CiTestKind } from '../../evaluator/ci/index.js';
import { renderSvg, toDot } from '../../evaluator/export/index.js';
import { pc, resolvePcOptions, type ColliderRule } from '../../evaluator/pc/index.js';
import { pcFlags, pcOptionsOf, pcProvenance } from '../pc-flags.js';
import { integerFlag, printJson } from '../options.js';

interface AnalyzeFlags {
  run: string;
  tabular: string;
  idColumn: string;
  background?: string;
  alpha: number;
  test: CiTestKind;
  maxCond?: number;
  stable: boolean;
  ucRule: ColliderRule;
  ucPriority?: number;
  out: string;
  force?: boolean;
}

const HELP = `
Inputs:
  RUN/latents.csv   one column z<m>_<i> per latent (modality m, from 1), one row per participant;
                    optionally a participant ID column (participant_id, or the --id-column name)
  RUN/result.json   optional; modality names from "modalities" or "data.modalities" (as crl train
                    writes it) label the latents of modality m, else "modality m"
  --tabular CSV     numeric variables to analyse with the latents, header row, no empty cells

Join: when both files have the ID column, rows are matched by participant ID (participants in
both; how many were left out of each file is reported); when neither has it, by row position (the
row counts must agree). One file with IDs and one without is an error.

Background knowledge (--background, JSON; names are CSV column names, * and ? are globs;
the notes on the right are not part of the file):
  {
    "forbidden": [["*", "age"], ["*", "sex"]],   age and sex have no parents
    "required":  [["age", "z1_1"]],              age -> z1_1
    "tiers": [["age", "sex"], ["z*_*", "grip"]]  no edge from a later tier into an earlier one
  }
  A tier may be {"nodes": [...], "forbiddenWithin": true} to forbid edges inside it as well.
  Variables in no tier are unconstrained by the tiers, so "no parents" is best said with
  "forbidden": [["*", "age"]].

Outputs in --out DIR (written all at once): graph.json (the CPDAG, "---" = undirected),
graph.dot and graph.svg (nodes coloured by modality, tabular variables grey), report.md and
analysis.json (for each latent the edges into, out of and undirected at it, with the other
variable's modality or tabular group; participants, alpha, test, edge counts).

Example:
  crl analyze --run runs/phenotype --tabular extra.csv --background bk.json --alpha 0.01 --out runs/phenotype-pc
`;

/** Adds `crl analyze` to the program. */
export function registerAnalyzeCommand(program: Command): void {
  pcFlags(
    program
      .command('analyze')
      .description(
        "PC over a run's learned latents plus extra tabular variables (phenotype analysis); " +
          'writes the CPDAG, a drawing coloured by modality and a per-latent edge report',
      )
      .requiredOption('--run <dir>', 'training run directory (latents.csv, optional result.json)')
      .requiredOption('--tabular <csv>', 'extra numeric variables, one row per participant')
      .option(
        '--id-column <name>',
        'participant ID column of --tabular, joined with the same column (or participant_id) of latents.csv',
        DEFAULT_ID_COLUMN,
      )
      .option('--background <json>', 'background knowledge: forbidden / required edges, tiers (see below)')
      .option(
        '--max-cond <n>',
        'largest conditioning set (default: no limit)',
        integerFlag('--max-cond', { min: 0 }),
      )
      .requiredOption(
        '--out <dir>',
        'output directory (graph.json, graph.dot, graph.svg, report.md, analysis.json)',
      )
      .option('--force', 'replace an existing non-empty --out directory')
      .addHelpText('after', HELP),
  ).action(async (flags: AnalyzeFlags, command: Command) => {
    await runAnalyze(flags, command.getOptionValueSource('idColumn') === 'cli');
  });
}

async function runAnalyze(flags: AnalyzeFlags, idColumnGiven: boolean): Promise<void> {
  const latentIdColumns = [...new Set([flags.idColumn, DEFAULT_ID_COLUMN])];
  const run = readRunLatents(flags.run, latentIdColumns);
  const tabular = readJoinSource(flags.tabular, [flags.idColumn]);
  if (idColumnGiven && run.source.ids === undefined && tabular.ids === undefined) {
    throw invalidArgument(
      `neither ${run.source.file} nor ${flags.tabular} has the participant ID column ${JSON.stringify(flags.idColumn)}`,
      { field: '--id-column' },
    );
  }
  const joined = joinLatentsWithTabular(run.source, tabular);
  const names = joined.table.columns;
  const grouping = groupVariables(
    joined.latentColumns,
    run.modalityOf,
    joined.tabularColumns,
    run.modalityNames,
  );

  const options = pcOptionsOf(flags, names, flags.maxCond);
  const resolved = resolvePcOptions(options);
  const started = performance.now();
  const result = pc(createCiTest(flags.test, joined.table), options);
  const seconds = (performance.now() - started) / 1000;

  const provenance = pcProvenance(
    flags.test,
    resolved,
    result.ciTests,
    joined.table.nRows,
    `${basename(run.source.file)} + ${basename(flags.tabular)}`,
  );
  const graph = result.graph.toGraph(names, {
    pc: provenance,
    groups: Object.fromEntries(names.map((v) => [v, grouping.groupOf.get(v)?.name ?? null])),
  });

  const context: AnalysisContext = {
    participants: joined.table.nRows,
    alpha: resolved.alpha,
    test: flags.test,
    max_cond: provenance.max_k,
    join: {
      mode: joined.mode,
      id_column: joined.idColumn ?? null,
      dropped: joined.dropped,
      dropped_examples: joined.droppedExamples,
    },
    inputs: {
      run: flags.run,
      latents: run.source.file,
      tabular: flags.tabular,
      background: flags.background ?? null,
    },
    notes: run.notes,
  };
  const analysis = buildAnalysis(graph, grouping, context);

  // Render everything before writing anything: a failure leaves no partial output directory.
  const dot = toDot(graph, {
    title: `${basename(flags.run)} latents + ${basename(flags.tabular)} (n = ${joined.table.nRows}, alpha = ${resolved.alpha})`,
    groupOf: drawingGroupOf(grouping),
  });
  const svg = await renderSvg(dot);
  const report = formatReport(analysis);
  writeDirectoryAtomically(flags.out, { overwrite: flags.force ?? false, flag: '--out' }, (dir) => {
    dir.write('graph.json', formatGraph(graph));
    dir.write('graph.dot', dot);
    dir.write('graph.svg', svg);
    dir.write('analysis.json', `${JSON.stringify(analysis, null, 2)}\n`);
    dir.write('report.md', report);
  });

  printJson({
    out: flags.out,
    files: ['graph.json', 'graph.dot', 'graph.svg', 'report.md', 'analysis.json'].map((f) =>
      join(flags.out, f),
    ),
    participants: analysis.participants,
    join: analysis.join,
    nodes: names.length,
    latents: joined.latentColumns.length,
    tabular: joined.tabularColumns.length,
    edges: analysis.edges,
    alpha: resolved.alpha,
    test: flags.test,
    max_cond: provenance.max_k,
    ci_tests: result.ciTests,
    depth: result.depth,
    seconds: Math.round(seconds * 1e4) / 1e4,
    ...(run.notes.length > 0 ? { notes: run.notes } : {}),
  });
}
