/**
 * EvaluateLatents: MCC (global, per modality, and each matched pair's correlation), aligned MCC
 * (with the exogenous slots when sent), kernel-ridge R² (overall and per true latent), and SHD of
 * the learned graph after relabelling its latents by the MCC matching, the way `crl train` scores a
 * run.
 */
import { invalidArgument } from '../../common/errors.js';
import type { Graph } from '../../common/graph.js';
import type { Table } from '../../common/matrix.js';
import { fromProtoGraph } from '../../common/rpc/graph.js';
import type { EvaluateLatentsRequest, EvaluateLatentsResponse } from '../../proto/gen/crl/v1/evaluator.js';
import {
  alignedMccOf,
  blockMatching,
  kernelRidgeR2,
  modalityCodesByName,
  matchingToRelabel,
  mcc,
  requireFinite,
  shd,
  type MatchedPair,
  type ModalityCode,
  type R2Protocol,
} from '../metrics/index.js';
import { requireSameRowCount, tableFromRequest } from './inputs.js';

const R2_PROTOCOLS: readonly R2Protocol[] = ['heldout', 'insample'];

export function evaluateLatents(req: EvaluateLatentsRequest): EvaluateLatentsResponse {
  const estimate = tableFromRequest(req.estimated, 'estimated', req.estimatedNames, 'estimated_names', 'e');
  const truth = tableFromRequest(req.truth, 'truth', req.truthNames, 'truth_names', 't');
  requireSameRowCount(estimate, 'estimated', truth, 'truth');
  requireFinite(estimate, 'estimated');
  requireFinite(truth, 'truth');
  const exogenous =
    req.exogenous === undefined
      ? undefined
      : tableFromRequest(req.exogenous, 'exogenous', req.exogenousNames, 'exogenous_names', 'eta');
  if (exogenous !== undefined) {
    requireSameRowCount(estimate, 'estimated', exogenous, 'exogenous');
    requireFinite(exogenous, 'exogenous');
  }
  const codes = alignmentCodes(estimate, truth, exogenous);
  // Checked even with skip_r2: a typo should fail now, not once skip_r2 is turned off.
  const protocol = r2Protocol(req.r2Protocol);
  const graphs = graphPair(req);

  const labels = { truth: 'truth', estimate: 'estimated' };
  const m = mcc(truth, estimate, { labels });
  const perModality = m.per_modality ?? {};
  // The matching that relabels, and that the response reports.
  const matching = blockMatching(m);

  const res: EvaluateLatentsResponse = {
    mcc: m.mcc,
    mccPerModality: Object.fromEntries(Object.entries(perModality).map(([k, v]) => [k, v.mcc])),
    matching: matchingIndices(matching, estimate, truth),
    matchedCorr: matchedCorrelations(matching, estimate),
    r2PerLatent: {},
    mccAlignedPerModality: {},
  };
  if (codes !== undefined) {
    const aligned = alignedMccOf(truth, codes, estimate, exogenous);
    if (aligned.mcc_aligned !== null) res.mccAligned = aligned.mcc_aligned;
    res.mccAlignedPerModality = Object.fromEntries(
      Object.entries(aligned.per_modality).filter((e): e is [string, number] => e[1] !== null),
    );
  }
  if (!req.skipR2) {
    const r2 = kernelRidgeR2(truth, estimate, { protocol, seed: req.seed, labels });
    res.r2 = r2.r2;
    res.r2PerLatent = { ...r2.per_column };
  }
  if (graphs !== undefined) {
    const s = shd(graphs.truth, graphs.learned, {
      relabel: matchingToRelabel(matching),
      labels: { truth: 'true_graph', estimate: 'learned' },
    });
    res.shd = s.shd_directed;
    res.shdCdt = s.shd_cdt;
    res.shdSkeleton = s.shd_skeleton;
  }
  return res;
}

function r2Protocol(requested: string): R2Protocol {
  if (requested === '') return 'heldout';
  if ((R2_PROTOCOLS as readonly string[]).includes(requested)) return requested as R2Protocol;
  throw invalidArgument(`${JSON.stringify(requested)} is not one of ${R2_PROTOCOLS.join(', ')}`, {
    field: 'r2_protocol',
  });
}

/**
 * Each modality's code for the aligned MCC, when the names allow it: latents `z<m>_<i>` that the
 * truth also has. Otherwise no aligned MCC, unless exogenous slots were sent for it: then the
 * names are the client's error.
 */
function alignmentCodes(
  estimate: Table,
  truth: Table,
  exogenous: Table | undefined,
): ModalityCode[] | undefined {
  const exoNames = exogenous?.columns ?? [];
  const codes = modalityCodesByName(estimate.columns, exoNames, 'exogenous_names');
  const usable = codes !== undefined && estimate.columns.every((c) => truth.columns.includes(c));
  if (usable) return codes;
  if (exogenous === undefined) return undefined;
  throw invalidArgument('the aligned MCC needs estimated latents named z<m>_<i>, each also a truth column', {
    field: 'estimated_names',
  });
}

/** Both graphs or neither: one alone is almost certainly a client bug, not a request to skip SHD. */
function graphPair(req: EvaluateLatentsRequest): { learned: Graph; truth: Graph } | undefined {
  if (req.learned === undefined && req.trueGraph === undefined) return undefined;
  if (req.learned === undefined || req.trueGraph === undefined) {
    const missing = req.learned === undefined ? 'learned' : 'true_graph';
    throw invalidArgument('learned and true_graph go together (SHD needs both)', { field: missing });
  }
  return {
    learned: fromProtoGraph(req.learned, 'learned'),
    truth: fromProtoGraph(req.trueGraph, 'true_graph'),
  };
}

/** matched_corr[i] = signed correlation of estimated column i with its partner, or 0. */
function matchedCorrelations(pairs: readonly MatchedPair[], estimate: Table): number[] {
  const corr = new Map(pairs.map((p) => [p.estimate, p.corr]));
  return estimate.columns.map((c) => corr.get(c) ?? 0);
}

/** matching[i] = column index in truth of the partner of estimated column i, or -1. */
function matchingIndices(pairs: readonly MatchedPair[], estimate: Table, truth: Table): number[] {
  const partner = new Map(pairs.map((p) => [p.estimate, truth.columns.indexOf(p.truth)]));
  return estimate.columns.map((c) => partner.get(c) ?? -1);
}
