/** CompareGraphs: SHD in its three conventions, with the differing edges by node name. */
import { fromProtoGraph } from '../../common/rpc/graph.js';
import type { CompareGraphsRequest, CompareGraphsResponse } from '../../proto/gen/crl/v1/evaluator.js';
import { shd } from '../metrics/index.js';

/** `reversed` lists each reversed edge as the estimate has it. */
export function compareGraphs(req: CompareGraphsRequest): CompareGraphsResponse {
  const estimate = fromProtoGraph(req.estimated, 'estimated');
  const truth = fromProtoGraph(req.truth, 'truth');
  const s = shd(truth, estimate, { labels: { truth: 'truth', estimate: 'estimated' } });
  return {
    shd: s.shd_directed,
    shdCdt: s.shd_cdt,
    shdSkeleton: s.shd_skeleton,
    missing: [...s.missing],
    extra: [...s.extra],
    reversed: s.reversed.map((d) => d.estimate),
  };
}
