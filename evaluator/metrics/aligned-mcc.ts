/**
 * Aligned MCC: how well each true latent could be read off its modality's whole code (the latent
 * slots z and the exogenous slots eta together) after the best orthogonal rotation of that code.
 *
 * MCC scores the latent slots as the model placed them. When it is low, two failures look alike:
 * the encoder lost the latent (no rotation brings it back), or the encoder holds it but the model
 * put it in the wrong direction of the code (an eta slot, or mixed with eta), which is a choice the
 * reconstruction is indifferent to and only the independence and sparsity terms make. Aligned MCC
 * tells them apart: per modality, the centred code C (n x K_c) is turned onto the standardised true
 * latents Y (n x k, k <= K_c) by the orthogonal Procrustes solution, the polar factor
 * Q = M (M^T M)^(-1/2) of M = C^T Y (K_c x k, orthonormal columns: the first k columns of the best
 * rotation of the code), and each true latent is scored against its own column of C Q. The true
 * exogenous variables take no part: the question is only whether some rotation reads the latents,
 * and recorded exogenous truth can be categorical (MNIST's classes) or missing altogether.
 * It uses the truth to choose Q, so it is a diagnostic for method developers, never a training or
 * model-selection signal. Rotation, not any linear map, because that is the freedom the objective
 * has and the reconstruction lacks (model/rotation.ts).
 */
import { invalidArgument } from '../../common/errors.js';
import { exogenousModality, latentModality } from '../../common/graph.js';
import { columnsOf, fromColumns, selectRows, type Table } from '../../common/matrix.js';
import { matmul, symmetricEigen, transpose } from '../../common/linalg.js';
import { selectByName } from './inputs.js';

export interface AlignmentBlock {
  /** The modality's key, for the per-modality score and error messages. */
  name: string;
  /** The modality's true latents (n x k). */
  truth: Table;
  /** The modality's whole estimated code, latent and exogenous slots (n x K_c, K_c >= k). */
  code: Table;
}

export interface AlignedMcc {
  /** Mean |corr| over every modality's true latents after alignment; null when no block fits. */
  mcc_aligned: number | null;
  /** Per modality; null where the code has fewer columns than latents, or misses a direction. */
  per_modality: Record<string, number | null>;
}

/** Relative floor under which a singular value of C^T Y counts as zero (the code misses a direction). */
const RANK_TOLERANCE = 1e-9;

export function alignedMcc(blocks: readonly AlignmentBlock[]): AlignedMcc {
  const per: Record<string, number | null> = {};
  let sum = 0;
  let count = 0;
  for (const b of blocks) {
    if (b.truth.nRows !== b.code.nRows) {
      throw invalidArgument(`truth has ${b.truth.nRows} rows, the code ${b.code.nRows}`, {
        field: `aligned MCC (${b.name})`,
      });
    }
    const scores = alignBlock(b);
    per[b.name] = scores === null ? null : scores.reduce((a, v) => a + v, 0) / scores.length;
    if (scores !== null) {
      sum += scores.reduce((a, v) => a + v, 0);
      count += scores.length;
    }
  }
  return { mcc_aligned: count > 0 ? sum / count : null, per_modality: per };
}

/** One modality's columns, by name: its latents `z<m>_<i>` and its exogenous slots. */
export interface ModalityCode {
  name: string;
  /** Its latent columns, `z<m>_<i>`: the same names in the estimates and in the truth. */
  latents: readonly string[];
  /** Its exogenous slots' columns in the estimated exogenous table. */
  exogenous: readonly string[];
}

/**
 * The modalities of a code named by the project convention, latents `z<m>_<i>` and exogenous slots
 * `eta<m>_<j>`, in order of m; undefined when a latent name does not follow it. An exogenous slot
 * of another name, or of a modality without latents, is an error naming `field`.
 */
export function modalityCodesByName(
  latents: readonly string[],
  exogenous: readonly string[],
  field: string,
): ModalityCode[] | undefined {
  const byModality = new Map<number, { latents: string[]; exogenous: string[] }>();
  for (const name of latents) {
    const m = latentModality(name);
    if (m === undefined) return undefined;
    const entry = byModality.get(m) ?? { latents: [], exogenous: [] };
    entry.latents.push(name);
    byModality.set(m, entry);
  }
  for (const name of exogenous) {
    const m = exogenousModality(name);
    const entry = m === undefined ? undefined : byModality.get(m);
    if (entry === undefined) {
      throw invalidArgument(
        `${JSON.stringify(name)} is not eta<m>_<j> of a modality m with latents (${[...byModality.keys()].map((k) => `z${k}_*`).join(', ')})`,
        { field },
      );
    }
    entry.exogenous.push(name);
  }
  return [...byModality.entries()].sort(([a], [b]) => a - b).map(([m, e]) => ({ name: `m${m}`, ...e }));
}

/**
 * Aligned MCC of a run's estimated latents and exogenous slots against the true latents (rows
 * aligned), over the rows `complete` keeps. Per-modality scores are keyed by the modality's number
 * in `z<m>_<i>`, as MCC's are.
 */
export function alignedMccOf(
  truth: Table,
  modalities: readonly ModalityCode[],
  latents: Table,
  exogenous: Table | undefined,
  complete?: Uint8Array,
): AlignedMcc {
  const pick = (t: Table, names: readonly string[], field: string): Table =>
    selectRows(selectByName(t, names, { field }), complete);
  const blocks = modalities.map((m): AlignmentBlock => {
    const code = pick(latents, m.latents, 'estimated latents');
    const exoCode =
      m.exogenous.length > 0 ? pick(exogenous as Table, m.exogenous, 'estimated exogenous') : undefined;
    return {
      name: String(latentModality(m.latents[0] ?? '') ?? m.name),
      truth: pick(truth, m.latents, 'truth latents'),
      code:
        exoCode === undefined
          ? code
          : fromColumns([...code.columns, ...exoCode.columns], [...columnsOf(code), ...columnsOf(exoCode)]),
    };
  });
  return alignedMcc(blocks);
}

/** |corr| of each true latent with its aligned code column, or null when no rotation fits. */
function alignBlock({ truth, code }: AlignmentBlock): number[] | null {
  const n = truth.nRows;
  const kt = truth.columns.length;
  const kc = code.columns.length;
  if (kc < kt || n < 2 || kt < 1) return null;
  const y = columnsOf(truth).map(standardised);
  const c = columnsOf(code).map(centred);
  if (y.some((col) => col === null)) return null;
  const ys = y as Float64Array[];
  // M = C^T Y (kc x kt)
  const m = new Float64Array(kc * kt);
  for (let i = 0; i < kc; i++)
    for (let j = 0; j < kt; j++) m[i * kt + j] = dot(c[i] as Float64Array, ys[j] as Float64Array);
  // (M^T M)^(-1/2) from the eigendecomposition of the kt x kt Gram matrix.
  const g = matmul(transpose(m, kc, kt), m, kt, kc, kt);
  const { values, vectors } = symmetricEigen(g, kt);
  const top = values[0] as number;
  if (!(top > 0) || (values[kt - 1] as number) <= RANK_TOLERANCE * top) return null;
  // V diag(1 / sqrt(lambda)) V^T, the eigenvectors being the columns of V.
  const scaled = vectors.map((v, idx) => v / Math.sqrt(values[idx % kt] as number));
  const invSqrt = matmul(scaled, transpose(vectors, kt, kt), kt, kt, kt);
  // Column j of C Q, for each scored latent j: sum_i c_i Q[i][j], Q = M (M^T M)^(-1/2).
  const scores: number[] = [];
  for (let j = 0; j < kt; j++) {
    const aligned = new Float64Array(n);
    for (let i = 0; i < kc; i++) {
      let q = 0;
      for (let k = 0; k < kt; k++) q += (m[i * kt + k] as number) * (invSqrt[k * kt + j] as number);
      if (q === 0) continue;
      const ci = c[i] as Float64Array;
      for (let r = 0; r < n; r++) aligned[r] = (aligned[r] as number) + q * (ci[r] as number);
    }
    const yj = ys[j] as Float64Array;
    const norm = Math.sqrt(dot(aligned, aligned));
    scores.push(norm > 0 ? Math.abs(dot(aligned, yj)) / (norm * Math.sqrt(dot(yj, yj))) : 0);
  }
  return scores;
}

function centred(col: Float64Array): Float64Array {
  let mean = 0;
  for (const v of col) mean += v;
  mean /= col.length;
  return Float64Array.from(col, (v) => v - mean);
}

/** Centred and scaled to unit variance; null for a constant column (no direction to align). */
function standardised(col: Float64Array): Float64Array | null {
  const c = centred(col);
  const sd = Math.sqrt(dot(c, c) / c.length);
  if (!(sd > 0)) return null;
  return c.map((v) => v / sd);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}
