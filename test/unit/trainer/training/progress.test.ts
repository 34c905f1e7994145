import { describe, expect, it } from 'vitest';
import { progressReporter, type CurveRow } from '../../../../trainer/training/index.js';

const row: CurveRow = {
  step: 50,
  lr: 1e-3,
  train_total: 1,
  train_ind: 2,
  train_sp: 3,
  train_recon: 4,
  val_total: 1.5,
  val_ind: 2,
  val_sp: 3,
  val_recon: 4,
  edges: 2,
  wall_s: 1.25,
};

describe('progress', () => {
  it('writes JSON lines when not on a TTY', () => {
    let text = '';
    const p = progressReporter({ write: (s: string) => (text += s) }, 100);
    p.onEval(row);
    p.done();
    expect(JSON.parse(text)).toEqual({ event: 'eval', total_steps: 100, ...row });
  });

  it('draws one bar line on a TTY', () => {
    let text = '';
    const p = progressReporter({ write: (s: string) => (text += s), isTTY: true }, 100);
    p.onEval(row);
    p.onEval({ ...row, step: 100 });
    p.done();
    expect(text.startsWith('\r[###############...............] 50/100')).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
  });
});
