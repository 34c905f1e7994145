/**
 * The run directory of a trial trained on the cluster, laid out like `crl train --out` writes it
 * so the same tools read both: result.json, latents.csv, exogenous.csv, graph.json (+ .dot, .svg),
 * curve.csv.
 * It is staged and renamed into place in one step, so a directory that exists is complete.
 */
import { resolve } from 'node:path';
import { formatLatentsCsv } from '../common/csv.js';
import { curveCsv } from '../common/curve.js';
import { formatGraph, type Graph } from '../common/graph.js';
import { curveRowOf } from '../common/rpc/progress.js';
import type { Table } from '../common/matrix.js';
import { writeDirectoryAtomically } from '../common/output-dir.js';
import { renderSvg, toDot } from '../evaluator/export/index.js';
import type { Assignment, Progress, Trial, TrialResult, TrialSpec } from '../proto/gen/crl/v1/trial.js';
import { trialStateToJSON } from '../proto/gen/crl/v1/trial.js';

export interface RunDirectoryContent {
  /** The trial with its result; `result.runDir` is filled in here. */
  trial: Trial;
  /** n x d posterior means, columns named as the graph's nodes. */
  latents: Table;
  /** Participant IDs of the rows (cohorts keyed by ID). */
  participants?: string[];
  /** Cells without an estimate (participant lacks the modality), row-major n x d. */
  missing?: Uint8Array;
  /** n x e exogenous slots (`eta<m>_<j>`), written as exogenous.csv when there are any. */
  exogenous?: Table;
  /** Their cells without an estimate, row-major n x e. */
  missingExogenous?: Uint8Array;
  graph: Graph;
  curve: readonly Progress[];
}

/** Writes the run directory and returns its absolute path. Refuses a non-empty existing `dir`. */
export async function writeRunDirectory(dir: string, content: RunDirectoryContent): Promise<string> {
  const target = resolve(dir);
  const dot = toDot(content.graph, { title: content.trial.id });
  // Rendered before staging: the staged write is synchronous, so nothing slow runs half-way.
  const svg = await renderSvg(dot);
  const trial: Trial = {
    ...content.trial,
    result: { ...(content.trial.result ?? emptyResult()), runDir: target },
  };
  writeDirectoryAtomically(target, { flag: 'spec.out_dir' }, (out) => {
    out.write('latents.csv', formatLatentsCsv(content.latents, content.participants, content.missing));
    const exo = content.exogenous;
    if (exo !== undefined && exo.columns.length > 0) {
      out.write('exogenous.csv', formatLatentsCsv(exo, content.participants, content.missingExogenous));
    }
    out.write('graph.json', formatGraph(content.graph));
    out.write('graph.dot', dot);
    out.write('graph.svg', svg);
    out.write('curve.csv', curveCsv(content.curve.map(curveRowOf)));
    // Last, as in `crl train`: a reader that finds result.json finds everything else.
    out.write('result.json', `${JSON.stringify(resultJson(trial, content.graph), null, 2)}\n`);
  });
  return target;
}

/**
 * A trial's scores against the truth in snake_case, as `crl train`'s result.json names them; null
 * where the data carry no truth (a map with its metric).
 */
export function trialMetricsJson(r: TrialResult): Record<string, unknown> {
  return {
    mcc: r.mcc ?? null,
    mcc_per_modality: r.mcc === undefined ? null : { ...r.mccPerModality },
    mcc_per_latent: r.mcc === undefined ? null : { ...r.mccPerLatent },
    r2: r.r2 ?? null,
    r2_per_latent: r.r2 === undefined ? null : { ...r.r2PerLatent },
    shd: r.shd ?? null,
    shd_cdt: r.shdCdt ?? null,
    mcc_aligned: r.mccAligned ?? null,
    mcc_aligned_per_modality: r.mccAligned === undefined ? null : { ...r.mccAlignedPerModality },
    truth_conditions_met: r.truthConditionsMet ?? null,
  };
}

/** result.json: the TrialResult in snake_case (absent metrics as null) with the trial's identity. */
export function resultJson(trial: Trial, graph: Graph): Record<string, unknown> {
  const r = trial.result ?? emptyResult();
  return {
    trial_id: trial.id,
    state: trialStateToJSON(trial.state)
      .replace(/^TRIAL_STATE_/, '')
      .toLowerCase(),
    ...trialMetricsJson(r),
    steps: r.steps,
    stopped_early: r.stoppedEarly,
    wall_s: r.wallS,
    backend: r.backend,
    run_dir: r.runDir,
    final: r.final === undefined ? null : progressJson(r.final),
    sync_wait_fraction: { ...r.syncWaitFraction },
    edges: graph.edges.length,
    graph: { nodes: graph.nodes, edges: graph.edges },
    spec: trial.spec === undefined ? null : specJson(trial.spec),
    assignments: trial.assignments.map(assignmentJson),
  };
}

function specJson(s: TrialSpec): Record<string, unknown> {
  return {
    preset: s.preset,
    data_dir: s.dataDir,
    modalities: s.modalities,
    seed: s.seed,
    rows: s.rows,
    steps: s.steps,
    batch_size: s.batchSize,
    lr: s.lr,
    eval_every: s.evalEvery,
    patience: s.patience,
    alpha_ind: s.alphaInd ?? null,
    alpha_sp: s.alphaSp ?? null,
    alpha_recon: s.alphaRecon ?? null,
    overrides_json: s.overridesJson,
    out_dir: s.outDir,
  };
}

function assignmentJson(a: Assignment): Record<string, unknown> {
  return {
    trainer_id: a.trainerId,
    modalities: a.modalities,
    shard_index: a.shardIndex,
    shard_count: a.shardCount,
  };
}

function progressJson(p: Progress): Record<string, number> {
  return { total_steps: p.totalSteps, ...curveRowOf(p) };
}

function emptyResult(): TrialResult {
  return {
    mccPerModality: {},
    mccPerLatent: {},
    r2PerLatent: {},
    mccAlignedPerModality: {},
    graph: undefined,
    steps: 0,
    stoppedEarly: false,
    wallS: 0,
    backend: '',
    runDir: '',
    final: undefined,
    syncWaitFraction: {},
  };
}
