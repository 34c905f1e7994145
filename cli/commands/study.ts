/**
 * `crl study run SPEC` runs a hyperparameter study (on a fresh local cluster unless
 * `--coordinator` names a running one) with a live summary, and writes study.json, trials.csv and
 * report.md. `status`, `best`, `list`, `cancel` and `export` talk to a running coordinator
 * (`crl up`; studies persist in its JetStream KV and survive a coordinator restart).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CrlError } from '../../common/errors.js';
import type { Graph } from '../../common/graph.js';
import { writeDirectoryAtomically } from '../../common/output-dir.js';
import { fromProtoGraph } from '../../common/rpc/graph.js';
import { CoordinatorClient } from '../../coordinator/client.js';
import { StudyClient } from '../../coordinator/study/client.js';
import { counts, studyCsv, studyJson, studyReport, studyStateName } from '../../coordinator/study/export.js';
import { parseStudySpec } from '../../coordinator/study/spec.js';
import { startLocalCluster, type LocalCluster } from '../../deploy/local/cluster.js';
import { StudyState, type Study } from '../../proto/gen/crl/v1/study.js';
import { BACKEND_CHOICES } from '../../trainer/backend/index.js';
import { choiceFlag, integerFlag, printJson } from '../options.js';

const coordinatorOption = (c: Command): Command =>
  c.option(
    '--coordinator <addr>',
    'coordinator host:port (default $CRL_COORDINATOR)',
    process.env['CRL_COORDINATOR'],
  );

function needCoordinator(addr: string | undefined): string {
  if (addr === undefined || addr === '') {
    throw new CrlError('INVALID_ARGUMENT', 'no coordinator: start one with `crl up` and pass its address', {
      field: '--coordinator',
    });
  }
  return addr;
}

export function registerStudyCommands(program: Command): void {
  const study = program.command('study').description('hyperparameter studies on the trainer pool');

  coordinatorOption(
    study
      .command('run <spec>')
      .description('run a study from a YAML/JSON spec; writes study.json, trials.csv and report.md')
      .option('--out <dir>', 'study directory (default runs/study-<name>-<id>)')
      .option(
        '--trainers <n>',
        'trainers of the local cluster (default: max_concurrent x trainers_per_trial)',
        integerFlag('--trainers', { min: 1, max: 64 }),
      )
      .option(
        '--backend <name>',
        `tfjs backend of local trainers: ${BACKEND_CHOICES.join(', ')}`,
        choiceFlag('--backend', BACKEND_CHOICES),
        'auto',
      ),
  ).action(
    async (file: string, f: { out?: string; trainers?: number; backend: string; coordinator?: string }) => {
      printJson(await runStudy(file, f, process.stderr));
    },
  );

  coordinatorOption(study.command('status <id>').description('state and trial counts of a study')).action(
    async (id: string, f: { coordinator?: string }) => {
      const s = await withClient(f.coordinator, (c) => c.get(id));
      printJson({
        id: s.id,
        name: s.name,
        state: studyStateName(s.state),
        reason: s.reason,
        counts: counts(s),
        best_trials: s.bestTrials,
      });
    },
  );
  coordinatorOption(study.command('best <id>').description('the best trial, or the Pareto front')).action(
    async (id: string, f: { coordinator?: string }) => {
      const s = await withClient(f.coordinator, (c) => c.get(id));
      const rows = studyJson(s)['trials'] as { number: number }[];
      printJson({ objectives: s.objectives, best: rows.filter((r) => s.bestTrials.includes(r.number)) });
    },
  );
  coordinatorOption(study.command('list').description('every study the coordinator knows')).action(
    async (f: { coordinator?: string }) => {
      const all = await withClient(f.coordinator, (c) => c.list());
      printJson(
        all.map((s) => ({ id: s.id, name: s.name, state: studyStateName(s.state), counts: counts(s) })),
      );
    },
  );
  coordinatorOption(study.command('cancel <id>').description('cancel a study and its running trials')).action(
    async (id: string, f: { coordinator?: string }) => {
      const s = await withClient(f.coordinator, (c) => c.cancel(id));
      printJson({ id: s.id, state: studyStateName(s.state), counts: counts(s) });
    },
  );
  coordinatorOption(
    study
      .command('export <id>')
      .description('the trials of a study as CSV or JSON on stdout')
      .option('--format <f>', 'csv or json', choiceFlag('--format', ['csv', 'json'] as const), 'json'),
  ).action(async (id: string, f: { coordinator?: string; format: 'csv' | 'json' }) => {
    const s = await withClient(f.coordinator, (c) => c.get(id));
    if (f.format === 'csv') process.stdout.write(studyCsv(s));
    else printJson(studyJson(s));
  });
}

async function withClient<T>(addr: string | undefined, fn: (c: StudyClient) => Promise<T>): Promise<T> {
  const client = new StudyClient(needCoordinator(addr));
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

export async function runStudy(
  file: string,
  f: { out?: string; trainers?: number; backend?: string; coordinator?: string },
  log: { write(s: string): unknown; isTTY?: boolean },
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CrlError('NOT_FOUND', `cannot read the study spec: ${(err as Error).message}`, { file });
  }
  // Checked here first, so errors name the file; the coordinator checks again.
  const spec = parseStudySpec(text, file);
  const specJson = JSON.stringify(parseYaml(text));
  let cluster: LocalCluster | undefined;
  let address = f.coordinator;
  if (address === undefined) {
    const trainers = f.trainers ?? spec.budget.maxConcurrent * spec.trainersPerTrial;
    log.write(`starting a local cluster with ${trainers} trainer(s)\n`);
    cluster = await startLocalCluster({
      trainers,
      ...(f.backend === undefined ? {} : { backend: f.backend }),
    });
    address = cluster.address;
  }
  const studies = new StudyClient(address);
  const trials = new CoordinatorClient(address);
  try {
    const submitted = await studies.submit(specJson);
    log.write(
      `study ${submitted.id} (${spec.name}): up to ${spec.budget.maxTrials} trials, ${spec.budget.maxConcurrent} at a time\n`,
    );
    let lastLine = '';
    const study = await studies.watch(submitted.id, (e) => {
      if (e.study === undefined) return;
      const line = progressLine(e.study);
      if (log.isTTY === true) log.write(`\r${line.padEnd(lastLine.length)}`);
      else if (line !== lastLine)
        log.write(`${JSON.stringify({ event: 'study', message: e.message, ...counts(e.study) })}\n`);
      lastLine = line;
    });
    if (log.isTTY === true) log.write('\n');
    let graph: Graph | undefined;
    const bestTrial = study.trials.find((t) => t.number === study.bestTrials[0]);
    const bestTrialId = bestTrial?.trialIds.at(-1);
    if (bestTrialId !== undefined) {
      const t = await trials.get(bestTrialId);
      if (t.result?.graph !== undefined) graph = fromProtoGraph(t.result.graph, `trial ${bestTrialId} graph`);
    }
    const out = resolve(f.out ?? `runs/study-${spec.name}-${study.id.replace(/^study-/, '')}`);
    writeDirectoryAtomically(out, { overwrite: false, flag: '--out' }, (dir) => {
      dir.write('trials.csv', studyCsv(study));
      dir.write('report.md', studyReport(study, graph));
      dir.write('study.json', `${JSON.stringify(studyJson(study), null, 2)}\n`);
    });
    log.write(
      `study ${study.id} ${studyStateName(study.state)}: ${progressLine(study)}; report: ${out}/report.md\n`,
    );
    if (study.state === StudyState.STUDY_STATE_CANCELLED || study.state === StudyState.STUDY_STATE_FAILED) {
      throw new CrlError('ABORTED', `study ${study.id} ${studyStateName(study.state)}: ${study.reason}`);
    }
    return { ...studyJson(study), out };
  } finally {
    studies.close();
    trials.close();
    await cluster?.stop();
  }
}

function progressLine(s: Study): string {
  const c = counts(s);
  const names = s.objectives;
  const best = s.trials.filter((t) => s.bestTrials.includes(t.number));
  const bestText =
    best.length === 0
      ? 'no complete trial yet'
      : best.length === 1
        ? `best #${best[0]?.number}: ${names.map((n, i) => `${n.split(':')[0]}=${best[0]?.values[i]?.toPrecision(4)}`).join(' ')}`
        : `Pareto front: ${best.map((t) => `#${t.number}`).join(' ')}`;
  return `trials ${c.running} running, ${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed | ${bestText}`;
}
