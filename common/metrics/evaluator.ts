/** What the evaluator service exports: requests by method and status, and their durations. */
import { Counter, Histogram, type Registry } from 'prom-client';
import { decadeBuckets } from './buckets.js';

export interface EvaluatorMetrics {
  requests: Counter<'method' | 'code'>;
  requestDuration: Histogram<'method'>;
}

export function evaluatorMetrics(registry: Registry): EvaluatorMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'crl_evaluator_requests_total',
      help: 'Evaluator RPCs handled, per method and gRPC status code name.',
      labelNames: ['method', 'code'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'crl_evaluator_request_duration_seconds',
      help: 'Time to handle one evaluator RPC, from decoded request to response, in seconds.',
      labelNames: ['method'] as const,
      // PC with KCI on a large sample can take minutes; a metric can take a millisecond.
      buckets: decadeBuckets(1e-3, 100),
      registers,
    }),
  };
}
