import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStudySpec, toTrialSpec } from '../../../../coordinator/study/spec.js';
import { generateSynthetic } from '../../../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../../../trainer/data/synthetic/spec.js';
import { writeSyntheticDataset } from '../../../../trainer/data/synthetic/write.js';
import { errorOf } from '../../../helpers/errors.js';
import { tempDir } from '../../../helpers/tmp.js';

const base = {
  name: 's',
  dataset: { preset: 'c1', seed: 1, rows: 500 },
  fixed: { steps: 100, 'model.hidden': 16 },
  space: [
    { name: 'alpha_sp', type: 'float', low: 0.001, high: 0.1, log: true },
    { name: 'model.gate.kind', type: 'categorical', choices: ['concrete', 'sigmoid'] },
  ],
  objectives: [{ metric: 'mcc', direction: 'maximize' }],
  budget: { max_trials: 4 },
};

const parse = (over: Record<string, unknown>) =>
  parseStudySpec(JSON.stringify({ ...base, ...over }), 'study.yaml');

describe('study spec', () => {
  it('reads YAML, fills defaults and maps parameters onto the trial', () => {
    const spec = parseStudySpec(
      'name: y\ndataset: { preset: c1, rows: 500 }\nspace:\n  - { name: lr, type: float, low: 0.001, high: 0.01 }\nobjectives: [{ metric: val_loss, direction: minimize }]\nbudget: { max_trials: 2 }\n',
    );
    expect(spec.sampler).toEqual({ type: 'tpe', seed: 0 });
    expect(spec.pruner).toEqual({ type: 'none' });
    expect(spec.budget.maxConcurrent).toBe(1);
    expect(spec.intermediate).toEqual([{ metric: 'val_loss', direction: 'minimize' }]);
    const s = parse({});
    // MCC has no intermediate value: the pruner watches the validation loss.
    expect(s.intermediate).toEqual([{ metric: 'val_loss', direction: 'minimize' }]);
    const t = toTrialSpec(s, { alpha_sp: 0.05, 'model.gate.kind': 'sigmoid' }, '', {
      dir: '/ck',
      resume: true,
    });
    expect(t.alphaSp).toBe(0.05);
    expect(t.steps).toBe(100);
    expect(JSON.parse(t.overridesJson)).toEqual({ model: { hidden: 16, gate: { kind: 'sigmoid' } } });
    expect(t.checkpointDir).toBe('/ck');
    expect(t.resume).toBe(true);
  });

  it('names the field at fault for each kind of bad spec', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ space: [{ name: 'lr', type: 'normal', low: 0, high: 1 }] }, /study\.yaml, space\.0\.type/],
      [{ space: [{ name: 'lr', type: 'float', low: 1, high: 1 }] }, /study\.yaml, space\[0\]\.low/],
      [
        { space: [{ name: 'lr', type: 'float', low: 0, high: 1, log: true }] },
        /space\[0\]\.low: a log-scaled param needs low > 0/,
      ],
      [
        { space: [{ name: 'learning_rate', type: 'float', low: 0.1, high: 1 }] },
        /space\[0\]\.name: unknown parameter "learning_rate"/,
      ],
      [{ fixed: { 'model.hiden': 3 } }, /hiden/],
      [{ objectives: [{ metric: 'accuracy', direction: 'maximize' }] }, /objectives\.0\.metric/],
      [{ dataset: { preset: 'c9' } }, /unknown preset "c9"/],
      [{ budget: { max_trials: 0 } }, /budget\.max_trials/],
      [{ fixed: { alpha_sp: 0.1 } }, /"alpha_sp" is both fixed and searched/],
    ];
    for (const [over, pattern] of cases) {
      expect(errorOf(() => parse(over)).message, JSON.stringify(over)).toMatch(pattern);
    }
  });

  it('refuses an objective the dataset cannot provide: MCC without ground truth', () => {
    const dir = tempDir();
    const ds = generateSynthetic(resolveSpec('c1', { seed: 1, n: 100 }));
    writeSyntheticDataset(ds, join(dir, 'd'), { name: 'd' });
    const manifestFile = join(dir, 'd', 'dataset.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
    delete manifest['truth'];
    for (const m of manifest['modalities'] as Record<string, unknown>[]) {
      m['latents'] = 2;
      delete m['truth'];
    }
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const err = errorOf(() => parse({ dataset: { data_dir: join(dir, 'd') } }));
    expect(err.message).toMatch(/objectives: objective mcc needs ground truth/);
    // The validation loss needs none.
    expect(
      parse({
        dataset: { data_dir: join(dir, 'd') },
        objectives: [{ metric: 'val_loss', direction: 'minimize' }],
      }).name,
    ).toBe('s');
  });
});

describe('the study store', () => {
  it('a coordinator whose NATS is unreachable refuses to start, naming it', async () => {
    const { startCoordinator } = await import('../../../../coordinator/server.js');
    await expect(
      startCoordinator({
        natsUrl: 'nats://127.0.0.1:1',
        evaluatorAddress: '127.0.0.1:2',
        persistStudies: true,
      }),
    ).rejects.toThrow(/natsUrl: cannot reach NATS at nats:\/\/127\.0\.0\.1:1 for the study store/);
  });
});
