/** The EvaluatorService gRPC implementation: each method decoded, computed, and counted. */
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { EvaluatorMetrics } from '../../common/metrics/evaluator.js';
import { statusCodeOf, statusName, unaryHandler } from '../../common/rpc/status.js';
import type { EvaluatorServiceServer } from '../../proto/gen/crl/v1/evaluator.js';
import { compareGraphs } from './compare-graphs.js';
import { discoverGraph } from './discover-graph.js';
import { evaluateLatents } from './evaluate-latents.js';

export interface EvaluatorServiceOptions {
  /** Where requests are counted and timed; none when omitted. */
  metrics?: EvaluatorMetrics;
}

export function createEvaluatorService(options: EvaluatorServiceOptions = {}): EvaluatorServiceServer {
  const m = options.metrics;
  return {
    evaluateLatents: instrumented('EvaluateLatents', m, evaluateLatents),
    discoverGraph: instrumented('DiscoverGraph', m, discoverGraph),
    compareGraphs: instrumented('CompareGraphs', m, compareGraphs),
  };
}

function instrumented<Req, Res>(
  method: string,
  metrics: EvaluatorMetrics | undefined,
  fn: (req: Req) => Res,
): handleUnaryCall<Req, Res> {
  return unaryHandler((req: Req) => {
    const done = metrics?.requestDuration.startTimer({ method });
    try {
      const res = fn(req);
      metrics?.requests.inc({ method, code: 'OK' });
      return res;
    } catch (err) {
      metrics?.requests.inc({ method, code: statusName(statusCodeOf(err)) });
      throw err;
    } finally {
      done?.();
    }
  });
}
