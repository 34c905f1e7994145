/** A promise-shaped client of the CoordinatorService, for the CLI and tests. */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { fromServiceError } from '../common/rpc/status.js';
import { clientOptions } from '../common/rpc/server.js';
import {
  CoordinatorServiceClient,
  type SubmitTrialRequest,
  type TrainerInfo,
  type WatchTrialResponse,
} from '../proto/gen/crl/v1/coordinator.js';
import type { Trial } from '../proto/gen/crl/v1/trial.js';
import { isTerminal } from './trial-state.js';

export class CoordinatorClient {
  private readonly client: CoordinatorServiceClient;

  constructor(address: string) {
    this.client = new CoordinatorServiceClient(address, credentials.createInsecure(), clientOptions());
  }

  submit(req: SubmitTrialRequest): Promise<Trial> {
    return this.unary<Trial>((cb) => this.client.submitTrial(req, (e, r) => cb(e, r?.trial)));
  }

  get(trialId: string): Promise<Trial> {
    return this.unary<Trial>((cb) => this.client.getTrial({ trialId }, (e, r) => cb(e, r?.trial)));
  }

  cancel(trialId: string): Promise<Trial> {
    return this.unary<Trial>((cb) => this.client.cancelTrial({ trialId }, (e, r) => cb(e, r?.trial)));
  }

  trainers(): Promise<TrainerInfo[]> {
    return this.unary<TrainerInfo[]>((cb) => this.client.listTrainers({}, (e, r) => cb(e, r?.trainers)));
  }

  /** Calls `onEvent` for every event of the trial; resolves with the trial once it has ended. */
  watch(trialId: string, onEvent: (e: WatchTrialResponse) => void): Promise<Trial> {
    return new Promise((resolve, reject) => {
      const stream = this.client.watchTrial({ trialId });
      let last: Trial | undefined;
      stream.on('data', (e: WatchTrialResponse) => {
        if (e.trial !== undefined) last = e.trial;
        onEvent(e);
      });
      stream.on('error', (err: ServiceError) => reject(fromServiceError(err)));
      stream.on('end', () => {
        if (last !== undefined && isTerminal(last.state)) resolve(last);
        else this.get(trialId).then(resolve, reject);
      });
    });
  }

  close(): void {
    this.client.close();
  }

  private unary<T>(call: (cb: (err: ServiceError | null, value: T | undefined) => void) => void): Promise<T> {
    return new Promise((resolve, reject) =>
      call((err, value) => {
        if (err !== null) reject(fromServiceError(err));
        else if (value === undefined) reject(new Error('the coordinator sent an empty response'));
        else resolve(value);
      }),
    );
  }
}
