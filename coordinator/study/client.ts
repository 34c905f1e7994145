/** A promise-shaped client of the StudyService, for the CLI and tests. */
import { credentials } from '@grpc/grpc-js';
import { clientOptions } from '../../common/rpc/server.js';
import { followStream, unaryCall } from '../../common/rpc/client.js';
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
    return unaryCall((cb) => this.client.submitStudy({ specJson }, (e, r) => cb(e, r?.study)));
  }

  get(studyId: string): Promise<Study> {
    return unaryCall((cb) => this.client.getStudy({ studyId }, (e, r) => cb(e, r?.study)));
  }

  list(): Promise<Study[]> {
    return unaryCall((cb) => this.client.listStudies({}, (e, r) => cb(e, r?.studies)));
  }

  cancel(studyId: string): Promise<Study> {
    return unaryCall((cb) => this.client.cancelStudy({ studyId }, (e, r) => cb(e, r?.study)));
  }

  /** Calls `onEvent` for every change; resolves with the study once it has ended. */
  watch(studyId: string, onEvent: (e: WatchStudyResponse) => void): Promise<Study> {
    return followStream(
      this.client.watchStudy({ studyId }),
      (e) => e.study,
      (s) => s.state !== StudyState.STUDY_STATE_RUNNING,
      onEvent,
      () => this.get(studyId),
    );
  }

  close(): void {
    this.client.close();
  }
}
