/** `crl eval ...`: identifiability metrics (MCC, R², SHD) between ground truth and an estimate. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readNumericCsv } from '../../common/csv.js';
import { invalidArgument } from '../../common/errors.js';
import { readGraph } from '../../common/graph.js';
import type { Table } from '../../common/matrix.js';
import {
  DEFAULT_R2_ALPHA,
  DEFAULT_R2_MAX_TRAIN,
  DEFAULT_R2_SEED,
  kernelRidgeR2,
  matchingToRelabel,
  mcc,
  selectByName,
  shd,
  type CorrelationMethod,
  type R2Protocol,
} from '../../evaluator/index.js';
import { choiceFlag, integerFlag, numberFlag, printJson } from '../options.js';

interface LatentFlags {
  truth: string;
  est: string;
  columnsTruth?: string[];
  columnsEst?: string[];
}

interface MccFlags extends LatentFlags {
  method: CorrelationMethod;
}

interface R2Flags extends LatentFlags {
  protocol: R2Protocol;
  alpha: number;
  gamma?: number;
  maxTrain: number;
  seed: number;
}

interface ShdFlags {
  truth: string;
  est: string;
  truthLatents?: string;
  estLatents?: string;
  method: CorrelationMethod;
}

export function registerEvalCommands(program: Command): void {
  const evaluate = program
    .command('eval')
    .description('score estimated latents and graphs against the ground truth');

  latentOptions(
    evaluate
      .command('mcc')
      .description('mean correlation coefficient under the optimal matching of truth and estimate columns'),
  )
    .option(
      '--method <m>',
      'pearson or spearman',
      choiceFlag<CorrelationMethod>('--method', ['pearson', 'spearman']),
      'pearson',
    )
    .action((flags: MccFlags) => {
      const { truth, estimate } = readLatents(flags);
      const result = mcc(truth, estimate, {
        method: flags.method,
        labels: { truth: flags.truth, estimate: flags.est },
      });
      printJson({ truth: flags.truth, estimate: flags.est, ...result });
    });

  latentOptions(
    evaluate.command('r2').description('R² of RBF kernel ridge regression from the estimate to the truth'),
  )
    .option(
      '--protocol <p>',
      "heldout (fit on 80%, score on the other 20%) or insample (fit and score the same rows, as the paper's code)",
      choiceFlag<R2Protocol>('--protocol', ['heldout', 'insample']),
      'heldout',
    )
    .option(
      '--alpha <a>',
      'ridge strength, > 0',
      numberFlag('--alpha', { min: 0, exclusiveMin: true }),
      DEFAULT_R2_ALPHA,
    )
    .option(
      '--gamma <g>',
      'RBF width, > 0 (default 1 / number of estimate columns)',
      numberFlag('--gamma', { min: 0, exclusiveMin: true }),
    )
    .option(
      '--max-train <n>',
      'most rows fitted (O(n^3)); more are subsampled',
      integerFlag('--max-train', { min: 2 }),
      DEFAULT_R2_MAX_TRAIN,
    )
    .option('--seed <s>', 'seed of the split and the subsample', integerFlag('--seed'), DEFAULT_R2_SEED)
    .action((flags: R2Flags) => {
      const { truth, estimate } = readLatents(flags);
      const result = kernelRidgeR2(truth, estimate, {
        protocol: flags.protocol,
        alpha: flags.alpha,
        gamma: flags.gamma,
        maxTrain: flags.maxTrain,
        seed: flags.seed,
        labels: { truth: flags.truth, estimate: flags.est },
      });
      printJson({ truth: flags.truth, estimate: flags.est, ...result });
    });

  evaluate
    .command('shd')
    .description('structural Hamming distance (directed, cdt and skeleton conventions)')
    .requiredOption('--truth <file>', 'true graph JSON')
    .requiredOption('--est <file>', 'estimated graph JSON')
    .option(
      '--truth-latents <file>',
      'true latents CSV: with --est-latents, relabel by the MCC matching first',
    )
    .option('--est-latents <file>', 'estimated latents CSV, columns named as the estimated graph nodes')
    .option(
      '--method <m>',
      'correlation for the relabelling matching: pearson or spearman',
      choiceFlag<CorrelationMethod>('--method', ['pearson', 'spearman']),
      'pearson',
    )
    .action((flags: ShdFlags) => {
      const truthGraph = readGraph(flags.truth);
      const estGraph = readGraph(flags.est);
      if ((flags.truthLatents === undefined) !== (flags.estLatents === undefined)) {
        const missing = flags.truthLatents === undefined ? '--truth-latents' : '--est-latents';
        throw invalidArgument('--truth-latents and --est-latents go together', { field: missing });
      }
      let relabel: Record<string, string> | undefined;
      let matching: { mcc: number; method: CorrelationMethod } | undefined;
      if (flags.truthLatents !== undefined && flags.estLatents !== undefined) {
        const m = mcc(readNumericCsv(flags.truthLatents), readNumericCsv(flags.estLatents), {
          method: flags.method,
          groups: 'none',
          labels: { truth: flags.truthLatents, estimate: flags.estLatents },
        });
        relabel = matchingToRelabel(m.matching);
        matching = { mcc: m.mcc, method: m.method };
      }
      const result = shd(truthGraph, estGraph, {
        relabel,
        labels: { truth: flags.truth, estimate: flags.est },
      });
      printJson({
        truth: flags.truth,
        estimate: flags.est,
        ...(relabel === undefined ? {} : { relabel, relabel_matching: matching }),
        ...result,
      });
    });
}

function latentOptions(command: Command): Command {
  return command
    .requiredOption('--truth <file>', 'true latents CSV (header row, one column per latent)')
    .requiredOption('--est <file>', 'estimated latents CSV, rows paired with --truth by position')
    .option('--columns-truth <names>', 'comma-separated truth columns to use (default all)', columnList)
    .option('--columns-est <names>', 'comma-separated estimate columns to use (default all)', columnList);
}

function columnList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((s) => s === '')) {
    throw new InvalidArgumentError(`expected comma-separated column names, got "${value}"`);
  }
  return names;
}

function readLatents(flags: LatentFlags): { truth: Table; estimate: Table } {
  let truth = readNumericCsv(flags.truth);
  let estimate = readNumericCsv(flags.est);
  if (flags.columnsTruth !== undefined) {
    truth = selectByName(truth, flags.columnsTruth, { file: flags.truth, field: '--columns-truth' });
  }
  if (flags.columnsEst !== undefined) {
    estimate = selectByName(estimate, flags.columnsEst, { file: flags.est, field: '--columns-est' });
  }
  return { truth, estimate };
}
