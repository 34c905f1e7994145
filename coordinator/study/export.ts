/**
 * A study as data and as a report: `trials.csv` / JSON (one row per trial: number, outcome,
 * objective values, parameters, steps reached, cluster trial ids), and a markdown report with the
 * counts, the best trials or Pareto front, and the learned graph of the best trial.
 */
import { latentModality, type Graph } from '../../common/graph.js';
import { StudyState, StudyTrialOutcome, type Study, type StudyTrial } from '../../proto/gen/crl/v1/study.js';

export interface StudyRow {
  number: number;
  outcome: string;
  values: Record<string, number | null>;
  params: Record<string, unknown>;
  last_step: number;
  trial_ids: string[];
  reason: string;
}

export function outcomeName(o: StudyTrialOutcome): string {
  return (StudyTrialOutcome[o] ?? String(o)).replace(/^STUDY_TRIAL_OUTCOME_/, '').toLowerCase();
}

export function studyStateName(s: StudyState): string {
  return (StudyState[s] ?? String(s)).replace(/^STUDY_STATE_/, '').toLowerCase();
}

export function studyRows(study: Study): StudyRow[] {
  const names = study.objectives.map((o) => o.split(':')[0] as string);
  return study.trials.map((t) => ({
    number: t.number,
    outcome: outcomeName(t.outcome),
    values: Object.fromEntries(names.map((n, i) => [n, t.values[i] ?? null])),
    params: JSON.parse(t.paramsJson) as Record<string, unknown>,
    last_step: t.intermediate.at(-1)?.step ?? 0,
    trial_ids: t.trialIds,
    reason: t.reason,
  }));
}

export function studyJson(study: Study): Record<string, unknown> {
  return {
    id: study.id,
    name: study.name,
    state: studyStateName(study.state),
    reason: study.reason,
    objectives: study.objectives,
    counts: counts(study),
    best_trials: study.bestTrials,
    trials: studyRows(study),
  };
}

/** CSV with one column per objective and per parameter (union over trials). */
export function studyCsv(study: Study): string {
  const rows = studyRows(study);
  const objectives = study.objectives.map((o) => o.split(':')[0] as string);
  const params = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  const header = [
    'number',
    'outcome',
    ...objectives,
    ...params.map((p) => `param:${p}`),
    'last_step',
    'trial_ids',
    'reason',
  ];
  const cell = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = rows.map((r) =>
    [
      r.number,
      r.outcome,
      ...objectives.map((o) => r.values[o]),
      ...params.map((p) => r.params[p]),
      r.last_step,
      r.trial_ids.join(' '),
      r.reason,
    ]
      .map(cell)
      .join(','),
  );
  return `${[header.map(cell).join(','), ...lines].join('\n')}\n`;
}

export type OutcomeCounts = Record<'running' | 'complete' | 'pruned' | 'failed', number>;

export function counts(study: Study): OutcomeCounts {
  const out: OutcomeCounts = { running: 0, complete: 0, pruned: 0, failed: 0 };
  for (const t of study.trials) {
    const k = outcomeName(t.outcome) as keyof OutcomeCounts;
    if (k in out) out[k] += 1;
  }
  return out;
}

/** Markdown report; `bestGraph` is the learned graph of the first best trial when known. */
export function studyReport(study: Study, bestGraph?: Graph): string {
  const c = counts(study);
  const objectives = study.objectives.map((o) => o.split(':')[0] as string);
  const byNumber = new Map(study.trials.map((t) => [t.number, t]));
  const bestRows = study.bestTrials
    .map((n) => byNumber.get(n))
    .filter((t): t is StudyTrial => t !== undefined);
  const fmt = (v: number | undefined): string =>
    v === undefined ? '—' : Number(v.toPrecision(4)).toString();
  const lines = [
    `# Study ${study.name} (${study.id})`,
    '',
    `State: **${studyStateName(study.state)}**${study.reason === '' ? '' : ` (${study.reason})`}. Trials: ${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed, ${c.running} running.`,
    '',
    `Objectives: ${study.objectives.map((o) => `\`${o}\``).join(', ')}; pruning on ${study.intermediateObjectives.map((o) => `\`${o}\``).join(', ')}.`,
    '',
    objectives.length > 1 ? '## Pareto front' : '## Best trial',
    '',
    `| trial | ${objectives.join(' | ')} | parameters |`,
    `| --- | ${objectives.map(() => '---').join(' | ')} | --- |`,
    ...bestRows.map((t) => `| ${t.number} | ${t.values.map(fmt).join(' | ')} | \`${t.paramsJson}\` |`),
    '',
    '## All trials',
    '',
    `| trial | outcome | ${objectives.join(' | ')} | last step | parameters |`,
    `| --- | --- | ${objectives.map(() => '---').join(' | ')} | --- | --- |`,
    ...study.trials.map(
      (t) =>
        `| ${t.number} | ${outcomeName(t.outcome)} | ${objectives.map((_, i) => fmt(t.values[i])).join(' | ')} | ${t.intermediate.at(-1)?.step ?? 0} | \`${t.paramsJson}\` |`,
    ),
  ];
  if (bestGraph !== undefined && bestRows[0] !== undefined) {
    const inter = bestGraph.edges.filter(
      ([a, b]) =>
        latentModality(bestGraph.nodes[a] as string) !== latentModality(bestGraph.nodes[b] as string),
    );
    lines.push(
      '',
      `## Learned graph of trial ${bestRows[0].number}`,
      '',
      inter.length === 0
        ? 'No inter-modal edges.'
        : inter.map(([a, b, mark]) => `- ${bestGraph.nodes[a]} ${mark} ${bestGraph.nodes[b]}`).join('\n'),
    );
  }
  return `${lines.join('\n')}\n`;
}
