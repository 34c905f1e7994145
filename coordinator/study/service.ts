/** StudyService over gRPC: required fields checked here, everything else in the StudyManager. */
import { invalidArgument } from '../../common/errors.js';
import { unaryHandler, watchHandler } from '../../common/rpc/status.js';
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
    watchStudy: watchHandler((req, emit) =>
      studies.watch(required(req.studyId, 'study_id'), (event) =>
        emit(
          { study: event.study, message: event.message },
          event.study.state !== StudyState.STUDY_STATE_RUNNING,
        ),
      ),
    ),
  };
}
