/**
 * The per-modality mixing g_x (paper eq. 2, appendix D.1): a random three-layer MLP with
 * LeakyReLU from [z(m), eta(m)] to d_m observed dims. Every weight matrix is U diag(s) V^T with
 * random orthonormal U, V and singular values s in a fixed range, so each layer has full column
 * rank with a bounded condition number; LeakyReLU is a bijection, hence the whole map is injective
 * and no latent information is lost to ill-conditioning.
 */
import type { Rng } from '../../../common/random.js';

export interface DenseLayer {
  inDim: number;
  outDim: number;
  /** outDim x inDim, row-major. */
  w: Float64Array;
  b: Float64Array;
  conditionNumber: number;
}

export interface MixingMlp {
  layers: DenseLayer[];
  negativeSlope: number;
}

export function drawMixing(
  inDim: number,
  outDim: number,
  opts: { negativeSlope: number; singularValues: [number, number] },
  rng: Rng,
): MixingMlp {
  const shapes: [number, number][] = [
    [inDim, outDim],
    [outDim, outDim],
    [outDim, outDim],
  ];
  const layers = shapes.map(([i, o]) => {
    const { w, conditionNumber } = wellConditioned(o, i, opts.singularValues, rng);
    const b = new Float64Array(o);
    for (let k = 0; k < o; k++) b[k] = 0.1 * rng.normal();
    return { inDim: i, outDim: o, w, b, conditionNumber };
  });
  return { layers, negativeSlope: opts.negativeSlope };
}

/** Maps n rows of inputs (row-major, n x inDim) to n x outDim; LeakyReLU after all but the last layer. */
export function applyMixing(mlp: MixingMlp, inputs: Float64Array, n: number): Float64Array {
  let x = inputs;
  mlp.layers.forEach((layer, li) => {
    const { inDim, outDim, w, b } = layer;
    const y = new Float64Array(n * outDim);
    const activate = li < mlp.layers.length - 1;
    for (let r = 0; r < n; r++) {
      for (let o = 0; o < outDim; o++) {
        let acc = b[o] as number;
        for (let i = 0; i < inDim; i++) acc += (w[o * inDim + i] as number) * (x[r * inDim + i] as number);
        y[r * outDim + o] = activate && acc < 0 ? mlp.negativeSlope * acc : acc;
      }
    }
    x = y;
  });
  return x;
}

/** rows x cols (rows >= cols) matrix U diag(s) V^T with s drawn from `range`. */
function wellConditioned(
  rows: number,
  cols: number,
  range: [number, number],
  rng: Rng,
): { w: Float64Array; conditionNumber: number } {
  const u = orthonormalColumns(rows, cols, rng);
  const v = orthonormalColumns(cols, cols, rng);
  const s = Array.from({ length: cols }, () => rng.between(range[0], range[1]));
  const w = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let acc = 0;
      for (let k = 0; k < cols; k++)
        acc += (u[r * cols + k] as number) * (s[k] as number) * (v[c * cols + k] as number);
      w[r * cols + c] = acc;
    }
  }
  return { w, conditionNumber: Math.max(...s) / Math.min(...s) };
}

/** rows x cols matrix with orthonormal columns: Gram-Schmidt (applied twice) on Gaussian vectors. */
function orthonormalColumns(rows: number, cols: number, rng: Rng): Float64Array {
  const q = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    for (;;) {
      const v = new Float64Array(rows);
      for (let r = 0; r < rows; r++) v[r] = rng.normal();
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < c; k++) {
          let dot = 0;
          for (let r = 0; r < rows; r++) dot += (q[r * cols + k] as number) * (v[r] as number);
          for (let r = 0; r < rows; r++) v[r] = (v[r] as number) - dot * (q[r * cols + k] as number);
        }
      }
      let norm = 0;
      for (let r = 0; r < rows; r++) norm += (v[r] as number) ** 2;
      norm = Math.sqrt(norm);
      if (norm < 1e-8) continue; // numerically dependent draw: draw again
      for (let r = 0; r < rows; r++) q[r * cols + c] = (v[r] as number) / norm;
      break;
    }
  }
  return q;
}
