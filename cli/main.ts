/**
 * The `crl` command line. Each command group lives in `cli/commands/<group>.ts` and registers
 * itself here; the command modules translate flags into library calls and nothing more.
 */
import { Command, CommanderError } from 'commander';
import { CrlError } from '../common/errors.js';
import { registerAnalyzeCommand } from './commands/analyze.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerDataCommands } from './commands/data.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEvalCommands } from './commands/eval.js';
import { registerPcCommands } from './commands/pc.js';
import { registerServeCommands } from './commands/serve.js';
import { registerStudyCommands } from './commands/study.js';
import { registerTrainCommand } from './commands/train.js';

export function buildProgram(): Command {
  const program = new Command('crl')
    .description('Multimodal causal representation learning: data, training, evaluation, causal graphs')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Before any subcommand exists, so every subcommand inherits it: errors come back to main()
    // as exceptions instead of process.exit() calls.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerDemoCommand(program);
  registerDataCommands(program);
  registerEvalCommands(program);
  registerPcCommands(program);
  registerAnalyzeCommand(program);
  registerTrainCommand(program);
  registerClusterCommands(program);
  registerServeCommands(program);
  registerStudyCommands(program);
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 bad input). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version requests "fail" with exit code 0 by commander's design.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CrlError) {
      process.stderr.write(`crl: error: ${err.message}\n`);
      return err.code === 'INTERNAL' ? 1 : 2;
    }
    process.stderr.write(`crl: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
