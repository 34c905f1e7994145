/** Curve rows on the wire: the `Progress` message and back. */
import type { Progress } from '../../proto/gen/crl/v1/trial.js';
import type { CurveRow } from '../curve.js';

export function progressOf(row: CurveRow, totalSteps: number): Progress {
  return {
    step: row.step,
    totalSteps,
    lr: row.lr,
    trainTotal: row.train_total,
    trainInd: row.train_ind,
    trainSp: row.train_sp,
    trainRecon: row.train_recon,
    valTotal: row.val_total,
    valInd: row.val_ind,
    valSp: row.val_sp,
    valRecon: row.val_recon,
    edges: row.edges,
    wallS: row.wall_s,
  };
}

export function curveRowOf(p: Progress): CurveRow {
  return {
    step: p.step,
    lr: p.lr,
    train_total: p.trainTotal,
    train_ind: p.trainInd,
    train_sp: p.trainSp,
    train_recon: p.trainRecon,
    val_total: p.valTotal,
    val_ind: p.valInd,
    val_sp: p.valSp,
    val_recon: p.valRecon,
    edges: p.edges,
    wall_s: p.wallS,
  };
}
