export { DEFAULT_ADAM, FlatAdam, flatten, type AdamConfig } from './adam.js';
export { LocalEngine } from './local-engine.js';
export {
  CHECKPOINT_MANIFEST,
  CHECKPOINT_WEIGHTS,
  readCheckpoint,
  restoreCheckpoint,
  serializeCheckpoint,
  type CheckpointFiles,
  type CheckpointManifest,
  type LoadedCheckpoint,
  type TensorEntry,
} from './checkpoint.js';
export { prepareTrainingData, type ModalityTable, type PreparedData } from './data.js';
export { progressReporter, type ProgressSink } from './progress.js';
export { restartSeed } from './restarts.js';
export {
  DEFAULT_TRAIN,
  Trainer,
  VALIDATION_CHUNK,
  type LossValues,
  type RunHooks,
  type StepContext,
  type StepEngine,
  type CurveRow,
  type LoopState,
  type TrainData,
  type TrainOptions,
  type TrainSummary,
} from './train.js';
