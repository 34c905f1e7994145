/**
 * A learnable rotation of each modality's code, seen by the prior only.
 *
 * Reconstruction cannot tell a code u from any rotation R u (the decoder would follow), so which
 * directions of a modality's code are the latents z and which the exogenous eta, and how z's
 * components are aligned, is decided by L_Ind (and L_Sp) alone. Measured on c1, the encoder finds
 * every component cleanly but often leaves a latent in an eta slot, or a latent and an eta at
 * 45 degrees: turning them means moving encoder and decoder together against the reconstruction
 * gradient, and the only force is the small mutual information between a misplaced component and
 * the other modalities. Here the prior sees gamma = R u, while the decoder and the posterior
 * density keep u: the rotation is a free direction of the reconstruction, moved by the
 * independence objective alone. The model class is unchanged (the encoder's last layer could
 * absorb R); only the optimisation geometry is.
 *
 * R = exp(S) with S skew-symmetric from K(K-1)/2 angles (zero: R = I), by a Taylor series on
 * S / 2^6 and six squarings, matrix products only (tfjs has no expm or inverse), so the gradient
 * reaches the angles by ordinary autodiff.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamStore } from './params.js';

const SQUARINGS = 6;
const TAYLOR_ORDER = 8;

export class CodeRotation {
  private readonly angles: tf.Variable | undefined;
  /** (P, K*K): angle p -> +1 at its lower-triangle entry of S. */
  private readonly scatter: tf.Tensor2D | undefined;

  constructor(
    readonly size: number,
    params: ParamStore,
    name: string,
  ) {
    const P = (size * (size - 1)) / 2;
    if (P === 0) return;
    this.angles = params.add(name, [1, P], { kind: 'constant', value: 0 });
    const scatter = new Float32Array(P * size * size);
    let p = 0;
    for (let i = 1; i < size; i++) {
      for (let j = 0; j < i; j++) scatter[p++ * size * size + i * size + j] = 1;
    }
    this.scatter = tf.keep(tf.tensor2d(scatter, [P, size * size]));
  }

  /** R (K x K), orthogonal up to float rounding. */
  matrix(): tf.Tensor2D {
    const K = this.size;
    if (this.angles === undefined || this.scatter === undefined) return tf.eye(K);
    const lower = tf.reshape(tf.matMul(this.angles, this.scatter), [K, K]) as tf.Tensor2D;
    const a = tf.div(tf.sub(lower, tf.transpose(lower)), 2 ** SQUARINGS) as tf.Tensor2D;
    // Horner: I + a (I + a/2 (I + a/3 (...)))
    const eye = tf.eye(K);
    let r: tf.Tensor2D = eye;
    for (let k = TAYLOR_ORDER; k >= 1; k--) r = tf.add(eye, tf.div(tf.matMul(a, r), k));
    for (let s = 0; s < SQUARINGS; s++) r = tf.matMul(r, r);
    return r;
  }

  /** Rows u (B x K) to rows R u. */
  apply(u: tf.Tensor2D): tf.Tensor2D {
    if (this.angles === undefined) return u;
    return tf.matMul(u, this.matrix(), false, true);
  }

  dispose(): void {
    this.scatter?.dispose();
  }
}
