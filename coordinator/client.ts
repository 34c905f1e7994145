/** A promise-shaped client of the CoordinatorService, for the CLI and tests. */
import { credentials } from '@grpc/grpc-js';
import { followStream, unaryCall } from '../common/rpc/client.js';
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
    return unaryCall<Trial>((cb) => this.client.submitTrial(req, (e, r) => cb(e, r?.trial)));
  }

  get(trialId: string): Promise<Trial> {
    return unaryCall<Trial>((cb) => this.client.getTrial({ trialId }, (e, r) => cb(e, r?.trial)));
  }

  cancel(trialId: string): Promise<Trial> {
    return unaryCall<Trial>((cb) => this.client.cancelTrial({ trialId }, (e, r) => cb(e, r?.trial)));
  }

  trainers(): Promise<TrainerInfo[]> {
    return unaryCall<TrainerInfo[]>((cb) => this.client.listTrainers({}, (e, r) => cb(e, r?.trainers)));
  }

  /** Calls `onEvent` for every event of the trial; resolves with the trial once it has ended. */
  watch(trialId: string, onEvent: (e: WatchTrialResponse) => void): Promise<Trial> {
    return followStream(
      this.client.watchTrial({ trialId }),
      (e) => e.trial,
      (t) => isTerminal(t.state),
      onEvent,
      () => this.get(trialId),
    );
  }

  close(): void {
    this.client.close();
  }
}
