import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../../common/random.js';
import { selectBackend } from '../../../../trainer/backend/index.js';
import { CodeRotation, CrlModel, modelConfig, ParamStore } from '../../../../trainer/model/index.js';

function values2d(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}

describe('code rotation', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  }, 60_000);

  it('is the identity at zero angles and orthogonal at any angles', () => {
    const params = new ParamStore(new Rng(1));
    const rot = new CodeRotation(4, params, 'rotation/x');
    const eye = values2d(rot.matrix());
    eye.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i === j ? 1 : 0, 6)));

    params.get('rotation/x').assign(tf.tensor2d([[0.3, -1.2, 2.5, 0.7, -3.0, 1.1]]));
    const r = rot.matrix();
    const rrT = values2d(tf.matMul(r, r, false, true));
    rrT.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i === j ? 1 : 0, 4)));
    // Far from the identity: a real rotation, not a no-op.
    expect(Math.abs((values2d(r)[0] as number[])[0] as number)).toBeLessThan(0.95);
    params.dispose();
  });

  it('turns a 2-d code by the angle of its one parameter, and the angle gets a gradient', () => {
    const params = new ParamStore(new Rng(1));
    const rot = new CodeRotation(2, params, 'rotation/y');
    const angle = params.get('rotation/y');
    angle.assign(tf.tensor2d([[0.4]]));
    // S = [[0, -t], [t, 0]] -> R = [[cos t, -sin t], [sin t, cos t]]
    const r = values2d(rot.matrix());
    expect(r[0]?.[0]).toBeCloseTo(Math.cos(0.4), 5);
    expect(r[1]?.[0]).toBeCloseTo(Math.sin(0.4), 5);
    expect(r[0]?.[1]).toBeCloseTo(-Math.sin(0.4), 5);
    const u = tf.tensor2d([[1, 0]]);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.slice(rot.apply(u), [0, 1], [1, 1])) as tf.Scalar,
      [angle],
    );
    // d/dt sin t = cos t
    expect((grads[angle.name] as tf.Tensor).dataSync()[0]).toBeCloseTo(Math.cos(0.4), 4);
    params.dispose();
  });

  it('moves the prior only: reconstruction is unchanged and the reported latents turn', () => {
    const cfg = modelConfig(
      [
        { name: 'a', kind: 'tabular', dims: 5, latents: 2, exogenous: 1 },
        { name: 'b', kind: 'tabular', dims: 4, latents: 1, exogenous: 1 },
      ],
      { rotation: true },
    );
    const model = new CrlModel(cfg, 3);
    const names = model.params.list().map((p) => p.name);
    expect(names).toContain('rotation/a');
    expect(model.isShared('rotation/a')).toBe(true);
    const rng = new Rng(9);
    const xs = [5, 4].map((d) =>
      tf.tensor2d(
        Array.from({ length: 32 * d }, () => rng.normal()),
        [32, d],
      ),
    );
    const opts = { training: false, seed: 5 };
    const before = tf.tidy(() => {
      const l = model.losses(xs, opts);
      return { recon: l.recon.dataSync()[0] as number, ind: l.ind.dataSync()[0] as number };
    });
    const zBefore = tf.tidy(() => model.encodeLatents(xs).arraySync() as number[][]);
    model.params.get('rotation/a').assign(tf.tensor2d([[0.9, -0.5, 1.3]]));
    const after = tf.tidy(() => {
      const l = model.losses(xs, opts);
      return { recon: l.recon.dataSync()[0] as number, ind: l.ind.dataSync()[0] as number };
    });
    const zAfter = tf.tidy(() => model.encodeLatents(xs).arraySync() as number[][]);
    expect(after.recon).toBeCloseTo(before.recon, 5);
    expect(Math.abs(after.ind - before.ind)).toBeGreaterThan(1e-3);
    // Modality a's z (columns 0, 1) turned; modality b's (column 2) did not.
    expect(Math.abs((zAfter[0]?.[0] ?? 0) - (zBefore[0]?.[0] ?? 0))).toBeGreaterThan(1e-3);
    expect(zAfter[0]?.[2]).toBeCloseTo(zBefore[0]?.[2] ?? NaN, 6);
    // And the independence loss reaches the angles.
    const angle = model.params.get('rotation/a');
    const { grads } = tf.variableGrads(() => model.losses(xs, { training: true, seed: 5 }).total, [angle]);
    const g = (grads[angle.name] as tf.Tensor).dataSync();
    expect(Array.from(g).some((v) => Math.abs(v) > 1e-6)).toBe(true);
    xs.forEach((x) => x.dispose());
    model.dispose();
  });
});
