/** StudyService over gRPC: required fields checked here, everything else in the StudyManager. */
import { invalidArgument } from '../../common/errors.js';
import { serverStreamHandler, unaryHandler } from '../../common/rpc/status.js';
import { StudyState, type StudyServiceServer } from '../../proto/gen/crl/v1/study.js';
import type { StudyManager } from './manager.js';

export function studyService(studies: StudyManager): StudyServiceServer {
  const required = (v: string, field: string): string => {
    if (v === '') throw invalidArgument('is required', { field });
    return v;
  };
  return {
    submitStudy: unaryHandler((req) => ({ study: studies.submit(required(req.specJson, 'spec_json')) })),
    getStudy: unaryHandler((req) => ({ study: studies.get(required(req.studyId, 'study_id')) })),
    listStudies: unaryHandler(() => ({ studies: studies.list() })),
    cancelStudy: unaryHandler(async (req) => ({
      study: await studies.cancel(required(req.studyId, 'study_id')),
    })),
    watchStudy: serverStreamHandler(
      (req, call) =>
        new Promise<void>((resolve) => {
          let done = false;
          let unsubscribe = (): void => {};
          const finish = (): void => {
            if (done) return;
            done = true;
            unsubscribe();
            resolve();
          };
          call.on('cancelled', finish);
          unsubscribe = studies.watch(required(req.studyId, 'study_id'), (event) => {
            if (done) return;
            call.write({ study: event.study, message: event.message });
            if (event.study.state !== StudyState.STUDY_STATE_RUNNING) finish();
          });
          if (done) unsubscribe();
        }),
    ),
  };
}
