/** DiscoverGraph: the PC algorithm on the request's columns, returning the CPDAG. */
import { invalidArgument } from '../../common/errors.js';
import { toProtoGraph } from '../../common/rpc/graph.js';
import type { DiscoverGraphRequest, DiscoverGraphResponse } from '../../proto/gen/crl/v1/evaluator.js';
import { CI_TEST_KINDS, createCiTest, type CiTestKind } from '../ci/index.js';
import { requireFinite } from '../metrics/index.js';
import { pc, PC_DEFAULTS } from '../pc/index.js';
import { tableFromRequest } from './inputs.js';

/**
 * Bidirected pairs (possible only on unfaithful data) have no wire representation and are
 * dropped, as they are from the CLI's graph JSON edge list.
 */
export function discoverGraph(req: DiscoverGraphRequest): DiscoverGraphResponse {
  const table = tableFromRequest(req.data, 'data', req.names, 'names', 'x');
  requireFinite(table, 'data');
  const kind = ciTestKind(req.ciTest);
  if (!Number.isFinite(req.alpha) || req.alpha < 0 || req.alpha >= 1) {
    throw invalidArgument(`must be in (0, 1) (0 means ${PC_DEFAULTS.alpha}), got ${req.alpha}`, {
      field: 'alpha',
    });
  }
  const alpha = req.alpha === 0 ? PC_DEFAULTS.alpha : req.alpha;
  const result = pc(createCiTest(kind, table), { alpha });
  return { graph: toProtoGraph(result.graph.toGraph(table.columns)), ciTests: result.ciTests };
}

function ciTestKind(requested: string): CiTestKind {
  if (requested === '') return PC_DEFAULTS.test;
  if ((CI_TEST_KINDS as readonly string[]).includes(requested)) return requested as CiTestKind;
  throw invalidArgument(`${JSON.stringify(requested)} is not one of ${CI_TEST_KINDS.join(', ')}`, {
    field: 'ci_test',
  });
}
