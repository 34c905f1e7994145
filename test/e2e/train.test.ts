import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNumericCsv } from '../../common/csv.js';
import { readGraph } from '../../common/graph.js';
import { column } from '../../common/matrix.js';
import { alignedMccOf } from '../../evaluator/metrics/aligned-mcc.js';
import { generateSynthetic } from '../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../trainer/data/synthetic/spec.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += ((a[i] as number) - ma) * ((b[i] as number) - mb);
    aa += ((a[i] as number) - ma) ** 2;
    bb += ((b[i] as number) - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('crl train', () => {
  const root = tempDir();
  const small = ['--n', '300', '--steps', '20', '--batch', '64', '--eval-every', '10', '--backend', 'wasm'];
  /** crl train on c1, seed 2, the small settings, then `extra` (later flags win). */
  const trainC1 = (out: string, ...extra: string[]) =>
    runCli(['train', '--preset', 'c1', '--seed', '2', '--out', out, ...small, ...extra]);

  it('trains on a preset and writes the run directory, result.json last', async () => {
    const out = join(root, 'run');
    const r = await trainC1(out);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(JSON.parse(r.stdout).mcc).toBe(result.mcc);
    for (const key of ['mcc', 'r2', 'shd', 'shd_cdt', 'wall_s']) expect(typeof result[key]).toBe('number');
    expect(Object.keys(result.mcc_per_modality)).toEqual(['1', '2']);
    expect(result).toMatchObject({ steps: 20, backend: 'wasm', seed: 2 });
    expect(result.hyperparameters.model.alpha).toEqual({ ind: 0.1, sp: 0.01, recon: 1, intraSp: 1 });
    // c1 is a perfect matching of its latents: identifiable, every edge measured.
    expect(result.truth_identifiability).toMatchObject({
      conditions_met: true,
      exchangeable: [],
      unlinked: [],
    });
    expect(result.truth_identifiability.weakest_edge.total_effect).toBeGreaterThan(0);
    const latents = readNumericCsv(join(out, 'latents.csv'));
    expect(latents.columns).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(latents.nRows).toBe(300);
    expect(readGraph(join(out, 'graph.json')).nodes).toEqual(latents.columns);
    // The exogenous slots, and the aligned MCC they enter: recomputed here from the two CSVs and
    // the preset's truth, so the slots reach the metric in the right modality and order.
    const exogenous = readNumericCsv(join(out, 'exogenous.csv'));
    expect(exogenous.columns).toEqual(['eta1_1', 'eta2_1']);
    expect(exogenous.nRows).toBe(300);
    expect(Object.keys(result.mcc_aligned_per_modality)).toEqual(['1', '2']);
    const truth = generateSynthetic(resolveSpec('c1', { seed: 2, n: 300 }));
    const again = alignedMccOf(
      truth.latents,
      [1, 2].map((m) => ({ name: `m${m}`, latents: [`z${m}_1`, `z${m}_2`], exogenous: [`eta${m}_1`] })),
      latents,
      exogenous,
    );
    // The CSVs carry 6 significant digits; the run scored the float32 code itself.
    expect(result.mcc_aligned).toBeCloseTo(again.mcc_aligned as number, 4);
    expect(result.mcc_aligned_per_modality['2']).toBeCloseTo(again.per_modality['2'] as number, 4);
    // Per latent: each true latent's partner is a latent of its own modality, every partner is used
    // once, the correlation is the one the CSV gives, and the modality's MCC is their mean |corr|.
    const perLatent = result.mcc_per_latent as Record<string, { estimate: string; corr: number }>;
    expect(Object.keys(perLatent).sort()).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(new Set(Object.values(perLatent).map((p) => p.estimate)).size).toBe(4);
    for (const [name, { estimate, corr }] of Object.entries(perLatent)) {
      expect(estimate.slice(0, 2)).toBe(name.slice(0, 2));
      const t = column(truth.latents, truth.latents.columns.indexOf(name));
      const e = column(latents, latents.columns.indexOf(estimate));
      expect(corr).toBeCloseTo(pearson(t, e), 4);
    }
    for (const m of ['1', '2']) {
      const mine = Object.entries(perLatent).filter(([k]) => k.startsWith(`z${m}_`));
      const mean = mine.reduce((a, [, p]) => a + Math.abs(p.corr), 0) / mine.length;
      expect(result.mcc_per_modality[m]).toBeCloseTo(mean, 10);
    }
    const r2s = Object.values(result.r2_per_latent as Record<string, number>);
    expect(Object.keys(result.r2_per_latent).sort()).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(result.r2).toBeCloseTo(r2s.reduce((a, b) => a + b, 0) / r2s.length, 10);
    expect(readNumericCsv(join(out, 'curve.csv')).nRows).toBe(2);
    expect(existsSync(join(out, 'checkpoint', 'manifest.json'))).toBe(true);
    // JSON lines progress on a non-TTY stderr.
    const lines = r.stderr.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'eval', step: 10 });
  });

  it('resumes from its checkpoint and refuses one of another architecture', async () => {
    const ckpt = join(root, 'run', 'checkpoint');
    const more = await trainC1(join(root, 'resumed'), '--steps', '30', '--resume', ckpt);
    expect(more.code, more.stderr).toBe(0);
    expect(JSON.parse(more.stdout).steps).toBe(30);
    const other = await trainC1(join(root, 'other'), '--hidden', '8', '--resume', ckpt);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/different model architecture/);
    expect(existsSync(join(root, 'other'))).toBe(false);
  });

  it('with --restarts keeps the initialisation of lowest validation loss and reports every one', async () => {
    const out = join(root, 'restarts');
    const r = await trainC1(out, '--restarts', '3');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    const runs = result.restarts.runs as { seed: number; best_val: number; mcc: number }[];
    expect(runs).toHaveLength(3);
    // The first initialisation is the plain run's; the others have seeds of their own.
    expect(runs[0]?.seed).toBe(2);
    expect(new Set(runs.map((x) => x.seed)).size).toBe(3);
    const vals = runs.map((x) => x.best_val);
    expect(vals.every(Number.isFinite)).toBe(true);
    expect(result.restarts.chosen).toBe(vals.indexOf(Math.min(...vals)));
    const kept = runs[result.restarts.chosen]!;
    expect(result.mcc).toBe(kept.mcc);
    expect(result.hyperparameters.training.seed).toBe(kept.seed);
    // One progress stream over all restarts: the last evaluation is at 3 x 20 steps.
    const last = JSON.parse(r.stderr.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ event: 'eval', step: 60, total_steps: 60 });

    const resumed = await trainC1(
      join(root, 'restarts-resumed'),
      '--restarts',
      '2',
      '--resume',
      join(out, 'checkpoint'),
    );
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(/--resume.*--restarts/);
    const zero = await trainC1(join(root, 'restarts-zero'), '--restarts', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--restarts/);
    expect(existsSync(join(root, 'restarts-zero'))).toBe(false);
    expect(existsSync(join(root, 'restarts-resumed'))).toBe(false);
  });

  it('refuses bad input with a clear message and no run directory', async () => {
    const refused = await runCli(['train', '--preset', 'c1', '--out', join(root, 'run'), ...small]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--force/);

    const data = join(root, 'data');
    const gen = await runCli(['data', 'generate', '--preset', 'c1', '--n', '50', '--out', data]);
    expect(gen.code, gen.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(data, 'dataset.json'), 'utf8'));
    const m2 = join(data, manifest.modalities[1].path);
    const lines = readFileSync(m2, 'utf8').trimEnd().split('\n');
    writeFileSync(m2, `${lines.slice(0, -1).join('\n')}\n`);
    const out = join(root, 'bad');
    const ragged = await runCli(['train', '--data', data, '--out', out, ...small.slice(2)]);
    expect(ragged.code).toBe(2);
    expect(ragged.stderr).toMatch(/rows/);
    expect(existsSync(out)).toBe(false);

    manifest.modalities[0].latents = 3;
    writeFileSync(join(data, 'dataset.json'), JSON.stringify(manifest));
    writeFileSync(m2, `${lines.join('\n')}\n`);
    const misfit = await runCli(['train', '--data', data, '--out', out, ...small.slice(2)]);
    expect(misfit.code).toBe(2);
    expect(misfit.stderr).toMatch(/latents/);
    expect(existsSync(out)).toBe(false);
    mkdirSync(out);
  });
});
