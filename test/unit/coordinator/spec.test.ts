import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../common/errors.js';
import { resolveTrialSpec } from '../../../coordinator/spec.js';
import { generateSynthetic } from '../../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../../trainer/data/synthetic/spec.js';
import { writeSyntheticDataset } from '../../../trainer/data/synthetic/write.js';
import type { TrialSpec } from '../../../proto/gen/crl/v1/trial.js';
import { trialSpec } from './fakes.js';
import { tempDir } from '../../helpers/tmp.js';

function errorOf(spec: TrialSpec | undefined): CrlError {
  try {
    resolveTrialSpec(spec);
  } catch (err) {
    if (err instanceof CrlError) return err;
    throw err;
  }
  throw new Error('spec was accepted');
}

describe('resolveTrialSpec', () => {
  const root = tempDir('crl-spec-');
  const dataDir = join(root, 'c3');
  writeSyntheticDataset(generateSynthetic(resolveSpec('c3', { n: 40 })), dataDir, {
    name: 'c3',
    preset: 'c3',
  });

  it('resolves a preset: modalities m1.., sizes, rows and latent names', () => {
    const r = resolveTrialSpec(trialSpec({ preset: 'c1', rows: 300 }));
    expect(r.source).toEqual({ kind: 'preset', preset: 'c1' });
    expect(r.rows).toBe(300);
    expect(r.modalities.map((m) => [m.name, m.index, m.dims, m.latents, m.exogenous])).toEqual([
      ['m1', 0, 15, 2, 1],
      ['m2', 1, 15, 2, 1],
    ]);
    expect(r.latentNames).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(resolveTrialSpec(trialSpec({ preset: 'c1' })).rows).toBe(10_000);
  });

  it('keeps the spec order of a modality subset; names keep the dataset index', () => {
    const r = resolveTrialSpec(trialSpec({ preset: 'c3', modalities: ['m3', 'm1'] }));
    expect(r.latentNames).toEqual(['z3_1', 'z3_2', 'z1_1', 'z1_2']);
    expect([...r.latentOffsets]).toEqual([
      ['m3', 0],
      ['m1', 2],
    ]);
  });

  it('resolves a dataset directory from its manifest', () => {
    const r = resolveTrialSpec(trialSpec({ dataDir, modalities: ['m2', 'm4'] }));
    expect(r.source).toEqual({ kind: 'data_dir', dir: dataDir });
    expect(r.rows).toBe(40);
    expect(r.latentNames).toEqual(['z2_1', 'z2_2', 'z4_1', 'z4_2']);
  });

  it('reads model.hidden and model.layers from overrides_json for placement', () => {
    const r = resolveTrialSpec(
      trialSpec({ preset: 'c1', overridesJson: '{"model":{"hidden":8,"layers":3}}' }),
    );
    expect(r.model).toEqual({ hidden: 8, layers: 3 });
  });

  it('needs exactly one of preset and data_dir', () => {
    expect(errorOf(undefined).where.field).toBe('spec');
    const neither = errorOf(trialSpec());
    expect([neither.code, neither.where.field]).toEqual(['INVALID_ARGUMENT', 'spec.preset']);
    const both = errorOf(trialSpec({ preset: 'c1', dataDir }));
    expect([both.code, both.where.field]).toEqual(['INVALID_ARGUMENT', 'spec.data_dir']);
  });

  it('lists the presets for an unknown one', () => {
    const err = errorOf(trialSpec({ preset: 'c9' }));
    expect([err.code, err.where.field]).toEqual(['INVALID_ARGUMENT', 'spec.preset']);
    expect(err.message).toMatch(/unknown preset "c9"; known presets: c1, c2, c3/);
  });

  it('names the path of a missing or invalid dataset', () => {
    const missing = errorOf(trialSpec({ dataDir: join(root, 'nope') }));
    expect([missing.code, missing.where.field, missing.where.file]).toEqual([
      'NOT_FOUND',
      'spec.data_dir',
      join(root, 'nope'),
    ]);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const noManifest = errorOf(trialSpec({ dataDir: empty }));
    expect([noManifest.code, noManifest.where.file]).toEqual(['NOT_FOUND', join(empty, 'dataset.json')]);
    const bad = join(root, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'dataset.json'), '{"format": "crl-dataset", "version": 1}');
    const invalid = errorOf(trialSpec({ dataDir: bad }));
    expect([invalid.code, invalid.where.file]).toEqual(['INVALID_ARGUMENT', join(bad, 'dataset.json')]);
  });

  it('names an unknown or repeated modality and lists the known ones', () => {
    const unknown = errorOf(trialSpec({ preset: 'c1', modalities: ['m1', 'm7'] }));
    expect([unknown.code, unknown.where.field]).toEqual(['INVALID_ARGUMENT', 'spec.modalities[1]']);
    expect(unknown.message).toMatch(/unknown modality "m7"; the data have m1, m2/);
    const twice = errorOf(trialSpec({ dataDir, modalities: ['m1', 'm1'] }));
    expect(twice.where.field).toBe('spec.modalities[1]');
  });

  it('refuses negative or non-finite numbers, naming the field', () => {
    const cases: [Partial<TrialSpec>, string][] = [
      [{ steps: -1 }, 'spec.steps'],
      [{ batchSize: -5 }, 'spec.batch_size'],
      [{ evalEvery: -1 }, 'spec.eval_every'],
      [{ patience: -1 }, 'spec.patience'],
      [{ rows: -10 }, 'spec.rows'],
      [{ lr: -0.1 }, 'spec.lr'],
      [{ lr: Number.NaN }, 'spec.lr'],
      [{ alphaInd: -1 }, 'spec.alpha_ind'],
      [{ alphaSp: Number.POSITIVE_INFINITY }, 'spec.alpha_sp'],
      [{ alphaRecon: -2 }, 'spec.alpha_recon'],
      [{ rows: 1 }, 'spec.rows'],
      [{ overridesJson: '{model' }, 'spec.overrides_json'],
      [{ overridesJson: '[1]' }, 'spec.overrides_json'],
    ];
    for (const [over, field] of cases) {
      const err = errorOf(trialSpec({ preset: 'c1', ...over }));
      expect([err.code, err.where.field], JSON.stringify(over)).toEqual(['INVALID_ARGUMENT', field]);
    }
    expect(errorOf(trialSpec({ dataDir, rows: 10 })).where.field).toBe('spec.rows');
  });

  it('refuses an out_dir that holds earlier results', () => {
    const out = join(root, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'result.json'), '{}');
    const err = errorOf(trialSpec({ preset: 'c1', outDir: out }));
    expect([err.code, err.where.field]).toEqual(['ALREADY_EXISTS', 'spec.out_dir']);
    expect(resolveTrialSpec(trialSpec({ preset: 'c1', outDir: join(root, 'fresh') })).rows).toBe(10_000);
  });
});
