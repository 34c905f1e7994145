/**
 * Row weights of a batch for cohorts where participants lack modalities: every engine builds them
 * the same way from the same presence arrays, so one process and a trainer group weigh rows alike.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The batch's 0/1 row weights of each modality that has missing participants. */
export function batchMasks(
  presence: readonly (Uint8Array | undefined)[],
  rows: Int32Array,
): (tf.Tensor1D | undefined)[] | undefined {
  if (presence.every((p) => p === undefined)) return undefined;
  return presence.map((p) =>
    p === undefined ? undefined : tf.tensor1d(Float32Array.from(rows, (r) => p[r] as number)),
  );
}
