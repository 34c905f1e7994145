/** A promise-shaped client of the StudyService, for the CLI and tests. */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { clientOptions } from '../../common/rpc/server.js';
import { fromServiceError } from '../../common/rpc/status.js';
import {
  StudyServiceClient,
  StudyState,
  type Study,
  type WatchStudyResponse,
} from '../../proto/gen/crl/v1/study.js';

export class StudyClient {
  private readonly client: StudyServiceClient;

  constructor(address: string) {
    this.client = new StudyServiceClient(address, credentials.createInsecure(), clientOptions());
  }

  submit(specJson: string): Promise<Study> {
    return this.unary((cb) => this.client.submitStudy({ specJson }, (e, r) => cb(e, r?.study)));
  }

  get(studyId: string): Promise<Study> {
    return this.unary((cb) => this.client.getStudy({ studyId }, (e, r) => cb(e, r?.study)));
  }

  list(): Promise<Study[]> {
    return this.unary((cb) => this.client.listStudies({}, (e, r) => cb(e, r?.studies)));
  }

  cancel(studyId: string): Promise<Study> {
    return this.unary((cb) => this.client.cancelStudy({ studyId }, (e, r) => cb(e, r?.study)));
  }

  /** Calls `onEvent` for every change; resolves with the study once it has ended. */
  watch(studyId: string, onEvent: (e: WatchStudyResponse) => void): Promise<Study> {
    return new Promise((resolve, reject) => {
      const stream = this.client.watchStudy({ studyId });
      let last: Study | undefined;
      stream.on('data', (e: WatchStudyResponse) => {
        if (e.study !== undefined) last = e.study;
        onEvent(e);
      });
      stream.on('error', (err: ServiceError) => reject(fromServiceError(err)));
      stream.on('end', () => {
        if (last !== undefined && last.state !== StudyState.STUDY_STATE_RUNNING) resolve(last);
        else this.get(studyId).then(resolve, reject);
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
