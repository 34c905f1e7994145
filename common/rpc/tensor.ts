/**
 * Dense float32 tensors on the wire (proto crl.v1.Tensor): row-major, little-endian, no padding.
 * The decoder checks everything a sender could get wrong, because a wrong length read as data
 * would silently shift every row after the first error.
 */
import { invalidArgument } from '../errors.js';
import type { Tensor } from '../../proto/gen/crl/v1/tensor.js';

export const FLOAT32 = 'float32';
const BYTES_PER_FLOAT32 = 4;

export interface DecodedTensor {
  values: Float32Array;
  shape: number[];
}

/** Shape constraints a receiver checks: a rank, and per dimension a size or null for any. */
export interface TensorExpectation {
  rank?: number;
  shape?: (number | null)[];
}

export function encodeTensor(values: Float32Array, shape: readonly number[]): Tensor {
  checkShape(shape, 'shape');
  const size = product(shape);
  if (size !== values.length) {
    throw invalidArgument(`${values.length} values for shape ${formatShape(shape)} (needs ${size})`, {
      field: 'shape',
    });
  }
  const data = Buffer.alloc(size * BYTES_PER_FLOAT32);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < size; i++) view.setFloat32(i * BYTES_PER_FLOAT32, values[i] as number, true);
  return { dtype: FLOAT32, shape: [...shape], data };
}

/**
 * Values and shape of a received tensor; throws INVALID_ARGUMENT naming `field` for a missing
 * tensor, an unknown dtype, a bad dimension, a byte length that does not fit the shape, or a
 * shape other than `expect`.
 */
export function decodeTensor(
  t: Tensor | undefined,
  field: string,
  expect: TensorExpectation = {},
): DecodedTensor {
  if (t === undefined) throw invalidArgument('tensor is missing', { field });
  if (t.dtype !== FLOAT32) {
    throw invalidArgument(`dtype ${JSON.stringify(t.dtype)} is not supported (expected "float32")`, {
      field,
    });
  }
  const shape = [...t.shape];
  checkShape(shape, field);
  const size = product(shape);
  const bytes = t.data.byteLength;
  if (bytes !== size * BYTES_PER_FLOAT32) {
    throw invalidArgument(
      `${bytes} bytes for shape ${formatShape(shape)} (float32 needs ${size * BYTES_PER_FLOAT32})`,
      { field },
    );
  }
  checkExpectation(shape, expect, field);
  // A protobuf bytes field is a slice of the message buffer at any offset, so a Float32Array
  // view over it may be misaligned (or big-endian hosts would misread it): copy value by value.
  const view = new DataView(t.data.buffer, t.data.byteOffset, bytes);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = view.getFloat32(i * BYTES_PER_FLOAT32, true);
  return { values, shape };
}

/** `[4, 7]`; `?` marks a dimension of any size in an expectation. */
export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: readonly number[], field: string): void {
  shape.forEach((d, k) => {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw invalidArgument(
        `dimension ${k} of shape ${formatShape(shape)} is ${d}; dimensions are integers >= 0`,
        {
          field,
        },
      );
    }
  });
}

function checkExpectation(shape: readonly number[], expect: TensorExpectation, field: string): void {
  const rank = expect.rank ?? expect.shape?.length;
  if (rank !== undefined && shape.length !== rank) {
    throw invalidArgument(`shape ${formatShape(shape)} has rank ${shape.length}, expected ${rank}`, {
      field,
    });
  }
  expect.shape?.forEach((want, k) => {
    if (want !== null && shape[k] !== want) {
      const pattern = formatShape((expect.shape ?? []).map((d) => d ?? '?'));
      throw invalidArgument(`shape ${formatShape(shape)} does not match ${pattern}`, { field });
    }
  });
}

function product(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}
