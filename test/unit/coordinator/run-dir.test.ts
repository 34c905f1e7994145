import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNumericCsv } from '../../../common/csv.js';
import { readGraph, type Graph } from '../../../common/graph.js';
import { makeTable } from '../../../common/matrix.js';
import { writeRunDirectory } from '../../../coordinator/run-dir.js';
import { TrialState, type Trial } from '../../../proto/gen/crl/v1/trial.js';
import { tempDir } from '../../helpers/tmp.js';
import { fakeProgress, trialSpec } from './fakes.js';

describe('writeRunDirectory', () => {
  const root = tempDir('crl-run-dir-');
  const graph: Graph = { nodes: ['z1_1', 'z1_2', 'z2_1'], edges: [[0, 2, '-->']] };
  const curve = [fakeProgress(10, 20), fakeProgress(20, 20)];
  const trial: Trial = {
    id: 'trial-abc',
    spec: trialSpec({ preset: 'c1', seed: 3, alphaSp: 0.02 }),
    state: TrialState.TRIAL_STATE_SUCCEEDED,
    assignments: [
      { trainerId: 't1', modalities: ['m1'], shardIndex: 0, shardCount: 1 },
      { trainerId: 't2', modalities: ['m2'], shardIndex: 0, shardCount: 1 },
    ],
    progress: curve[1],
    result: {
      mcc: 0.91,
      mccPerModality: { m1: 0.9, m2: 0.92 },
      mccPerLatent: { z1_1: { estimate: 'z1_2', corr: -0.88 }, z2_1: { estimate: 'z2_1', corr: 0.95 } },
      r2: undefined,
      r2PerLatent: {},
      shd: 1,
      shdCdt: 2,
      truthConditionsMet: false,
      mccAligned: 0.97,
      mccAlignedPerModality: { '1': 0.96, '2': 0.98 },
      graph: undefined,
      steps: 20,
      stoppedEarly: true,
      wallS: 3.5,
      backend: 'wasm',
      runDir: '',
      final: curve[1],
      syncWaitFraction: { t1: 0.25, t2: 0.5 },
    },
    reason: '',
    createdMs: 1,
    updatedMs: 2,
  };

  it('writes result.json, latents.csv, exogenous.csv, graph.json/.dot/.svg and curve.csv', async () => {
    const latents = makeTable(['z1_1', 'z1_2', 'z2_1'], 2, Float64Array.from([1, 2, 3, 4, 5, 6.5]));
    const exogenous = makeTable(['eta1_1', 'eta2_1'], 2, Float64Array.from([7, 8, 9, 10]));
    const dir = await writeRunDirectory(join(root, 'run'), {
      trial,
      latents,
      exogenous,
      missingExogenous: Uint8Array.from([0, 0, 0, 1]),
      graph,
      curve,
    });
    expect(dir).toBe(join(root, 'run'));
    expect(readdirSync(dir).sort()).toEqual([
      'curve.csv',
      'exogenous.csv',
      'graph.dot',
      'graph.json',
      'graph.svg',
      'latents.csv',
      'result.json',
    ]);
    expect(readFileSync(join(dir, 'latents.csv'), 'utf8')).toBe('z1_1,z1_2,z2_1\n1,2,3\n4,5,6.5\n');
    // A missing cell (the participant lacks modality 2) is blank, as in latents.csv.
    expect(readFileSync(join(dir, 'exogenous.csv'), 'utf8')).toBe('eta1_1,eta2_1\n7,8\n9,\n');
    expect(readGraph(join(dir, 'graph.json'))).toEqual(graph);
    expect(readFileSync(join(dir, 'graph.dot'), 'utf8')).toMatch(/"z1_1" -> "z2_1"/);
    expect(readFileSync(join(dir, 'graph.svg'), 'utf8')).toMatch(/<svg/);
    const curveTable = parseNumericCsv(readFileSync(join(dir, 'curve.csv'), 'utf8'));
    expect(curveTable.columns).toEqual([
      'step',
      'lr',
      'train_total',
      'train_ind',
      'train_sp',
      'train_recon',
      'val_total',
      'val_ind',
      'val_sp',
      'val_recon',
      'edges',
      'wall_s',
    ]);
    expect(curveTable.nRows).toBe(2);

    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    expect(result).toMatchObject({
      trial_id: 'trial-abc',
      state: 'succeeded',
      mcc: 0.91,
      mcc_per_modality: { m1: 0.9, m2: 0.92 },
      mcc_per_latent: { z1_1: { estimate: 'z1_2', corr: -0.88 }, z2_1: { estimate: 'z2_1', corr: 0.95 } },
      r2: null,
      r2_per_latent: null,
      shd: 1,
      shd_cdt: 2,
      truth_conditions_met: false,
      mcc_aligned: 0.97,
      mcc_aligned_per_modality: { '1': 0.96, '2': 0.98 },
      steps: 20,
      stopped_early: true,
      wall_s: 3.5,
      backend: 'wasm',
      run_dir: dir,
      sync_wait_fraction: { t1: 0.25, t2: 0.5 },
      edges: 1,
      graph: { nodes: ['z1_1', 'z1_2', 'z2_1'], edges: [[0, 2, '-->']] },
      spec: { preset: 'c1', seed: 3, alpha_sp: 0.02, alpha_ind: null, batch_size: 0, out_dir: '' },
      assignments: [
        { trainer_id: 't1', modalities: ['m1'], shard_index: 0, shard_count: 1 },
        { trainer_id: 't2', modalities: ['m2'], shard_index: 0, shard_count: 1 },
      ],
    });
    expect(result.final).toMatchObject({ step: 20, total_steps: 20, val_total: 9 });
  });

  it('refuses to replace an earlier run directory', async () => {
    const latents = makeTable(['z1_1', 'z1_2', 'z2_1'], 0);
    await writeRunDirectory(join(root, 'twice'), { trial, latents, graph, curve });
    await expect(writeRunDirectory(join(root, 'twice'), { trial, latents, graph, curve })).rejects.toThrow(
      /spec\.out_dir.*exists and is not empty/,
    );
  });
});
