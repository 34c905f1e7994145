import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../common/random.js';
import { selectBackend } from '../../../../trainer/backend/index.js';
import {
  ComponentFlow,
  dagMask,
  latentLayout,
  modelConfig,
  ParamStore,
} from '../../../../trainer/model/index.js';

/** log|det| of a small dense matrix by Gaussian elimination with partial pivoting. */
function logAbsDet(a: number[][]): number {
  const m = a.map((r) => r.slice());
  const n = m.length;
  let acc = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]!;
    acc += Math.log(Math.abs(piv));
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / piv;
      for (let k = c; k < n; k++) m[r]![k] = m[r]![k]! - f * m[c]![k]!;
    }
  }
  return acc;
}

describe('component-wise flow', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  }, 60_000);

  const cfg = modelConfig([
    { name: 'a', kind: 'tabular', dims: 3, latents: 2, exogenous: 0 },
    { name: 'b', kind: 'tabular', dims: 3, latents: 2, exogenous: 0 },
  ]);
  const layout = latentLayout(cfg);
  const d = layout.d;

  function makeFlow(): { flow: ComponentFlow; params: ParamStore; gate: tf.Tensor2D } {
    const params = new ParamStore(new Rng(7));
    const flow = new ComponentFlow(d, 8, params, 0.2);
    // Non-trivial biases so mu and s are not zero at the origin.
    const rng = new Rng(11);
    tf.tidy(() => {
      for (const p of params.list()) {
        const noise = Float32Array.from({ length: p.variable.size }, () => 0.5 * rng.normal());
        p.variable.assign(tf.add(p.variable, tf.tensor(noise, p.variable.shape)));
      }
    });
    const mask = dagMask(layout, true);
    const gate = tf.tensor2d(
      Float32Array.from(mask, (m, k) => m * (0.3 + (0.6 * ((k * 37) % 11)) / 11)),
      [d, d],
    );
    return { flow, params, gate };
  }

  it('log-determinant matches a finite-difference Jacobian', () => {
    const { flow, params, gate } = makeFlow();
    const z0 = [0.3, -1.2, 0.8, 0.5];
    const epsAt = (z: number[]): number[] =>
      tf.tidy(() => Array.from(flow.forward(tf.tensor2d([z]), gate).eps.dataSync()));
    const closed = tf.tidy(() => flow.forward(tf.tensor2d([z0]), gate).logDet.dataSync()[0]!);
    const h = 1e-2;
    const jac = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let j = 0; j < d; j++) {
      const up = z0.slice();
      const down = z0.slice();
      up[j]! += h;
      down[j]! -= h;
      const eu = epsAt(up);
      const ed = epsAt(down);
      for (let i = 0; i < d; i++) jac[i]![j] = (eu[i]! - ed[i]!) / (2 * h);
    }
    expect(closed).toBeCloseTo(logAbsDet(jac), 2);
    // Triangular: eps_i does not depend on z_j unless j is an allowed parent (or i itself).
    const mask = dagMask(layout, true);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        if (i !== j && mask[i * d + j] === 0) expect(Math.abs(jac[i]![j]!)).toBeLessThan(1e-4);
      }
    }
    gate.dispose();
    params.dispose();
  });

  it('a zero gate entry cuts the dependence on that parent', () => {
    const { flow, params, gate } = makeFlow();
    const cut = tf.tidy(() =>
      tf.mul<tf.Tensor2D>(gate, tf.tensor2d([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0], [d, d])),
    );
    const a = tf.tidy(() =>
      Array.from(flow.forward(tf.tensor2d([[0.3, -1.2, 0.8, 0.5]]), cut).eps.dataSync()),
    );
    const b = tf.tidy(() =>
      Array.from(flow.forward(tf.tensor2d([[2.3, -1.2, 0.8, 0.5]]), cut).eps.dataSync()),
    );
    // Component 3 (index 2) has no parent left: only z_1 changed, so eps_3 stays.
    expect(b[2]).toBeCloseTo(a[2]!, 5);
    expect(b[0]).not.toBeCloseTo(a[0]!, 3);
    cut.dispose();
    gate.dispose();
    params.dispose();
  });
});
