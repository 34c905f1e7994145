import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDag } from '../../../../common/graph.js';
import { loadDataset, loadTruth } from '../../../../trainer/data/dataset.js';
import { parseManifest, readManifest } from '../../../../trainer/data/manifest.js';
import { generateSynthetic } from '../../../../trainer/data/synthetic/generate.js';
import { resolveSpec } from '../../../../trainer/data/synthetic/spec.js';
import { writeSyntheticDataset } from '../../../../trainer/data/synthetic/write.js';
import { tempDir } from '../../../helpers/tmp.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

describe('dataset directory', () => {
  const root = tempDir();
  const spec = resolveSpec('c3', { n: 400, seed: 2 });
  const dir = join(root, 'c3');
  writeSyntheticDataset(generateSynthetic(spec), dir, { name: 'c3', preset: 'c3' });

  it('writes the documented layout and a manifest that validates', () => {
    const files = listFiles(dir)
      .map((f) => relative(dir, f))
      .sort();
    expect(files).toEqual([
      'dataset.json',
      'm1.csv',
      'm2.csv',
      'm3.csv',
      'm4.csv',
      'truth/exogenous.csv',
      'truth/graph.json',
      'truth/latents.csv',
      'truth/noise.csv',
    ]);
    const m = readManifest(dir);
    expect(
      m.modalities.map((x) => [x.name, x.kind === 'tabular' && x.dims, x.latents, x.truth?.latents]),
    ).toEqual([
      ['m1', 15, 2, ['z1_1', 'z1_2']],
      ['m2', 15, 2, ['z2_1', 'z2_2']],
      ['m3', 15, 2, ['z3_1', 'z3_2']],
      ['m4', 15, 2, ['z4_1', 'z4_2']],
    ]);
    expect(m.generator?.['inter_edges']).toBe(6);
  });

  it('loads back exactly what the truth says', () => {
    const loaded = loadDataset(dir);
    expect(loaded.modalities.map((x) => x.observations.nRows)).toEqual([400, 400, 400, 400]);
    const truth = loadTruth(dir, loaded.manifest)!;
    expect(truth.latents.columns).toEqual(truth.graph.nodes);
    expect(isDag(truth.graph)).toBe(true);
    // The generator's identifiability record comes back with its edge strengths.
    expect(truth.identifiability.edges).toHaveLength(truth.graph.edges.length);
  });

  it('checks the truth graph itself when the manifest has no usable identifiability record', () => {
    const copy = join(root, 'no-record');
    writeSyntheticDataset(generateSynthetic(resolveSpec('c2', { n: 100, seed: 1 })), copy, { name: 'c2' });
    const manifestFile = join(copy, 'dataset.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    const recorded = manifest.generator.identifiability;
    for (const record of [undefined, { conditions_met: 'yes' }]) {
      manifest.generator.identifiability = record;
      writeFileSync(manifestFile, JSON.stringify(manifest));
      const truth = loadTruth(copy, readManifest(copy))!;
      expect(truth.identifiability).toEqual({
        exchangeable: recorded.exchangeable,
        unlinked: [],
        edges: [],
        conditions_met: false,
      });
    }
  });

  it('reads only the modalities asked for, and names an unknown one', () => {
    expect(loadDataset(dir, { modalities: ['m3'] }).modalities.map((m) => m.manifest.name)).toEqual(['m3']);
    expect(() => loadDataset(dir, { modalities: ['m9'] })).toThrow(/unknown modality "m9".*m1, m2, m3, m4/);
  });

  it('rejects a modality file whose row count disagrees with the others, naming the file', () => {
    const bad = join(root, 'bad');
    writeSyntheticDataset(generateSynthetic({ ...spec, n: 50 }), bad, { name: 'bad' });
    const m2 = join(bad, 'm2.csv');
    const lines = readFileSync(m2, 'utf8').trimEnd().split('\n');
    writeFileSync(m2, lines.slice(0, -1).join('\n') + '\n');
    expect(() => loadDataset(bad)).toThrow(
      new RegExp(`${m2.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*49 rows.*n = 50`),
    );
  });

  it.each([
    [{ format: 'crl-dataset', version: 1, name: 'x', n: 5, modalities: [] }, /modalities/],
    [
      {
        format: 'crl-dataset',
        version: 1,
        name: 'x',
        n: 5,
        modalities: [{ name: 'a', kind: 'tabular', path: 'a.csv', format: 'csv', dims: -1 }],
      },
      /modalities\[0\]\.dims/,
    ],
    [
      {
        format: 'crl-dataset',
        version: 1,
        name: 'x',
        n: 5,
        modalities: [{ name: 'a', kind: 'tabular', path: '../a.csv', format: 'csv', dims: 1 }],
      },
      /modalities\[0\]\.path.*inside/,
    ],
    [
      {
        format: 'crl-dataset',
        version: 1,
        name: 'x',
        n: 5,
        modalities: [
          { name: 'a', kind: 'tabular', path: 'a.csv', format: 'csv', dims: 1 },
          { name: 'a', kind: 'tabular', path: 'b.csv', format: 'csv', dims: 1 },
        ],
      },
      /modalities\[1\]\.name.*duplicate/,
    ],
    [{ format: 'crl-dataset', version: 2, name: 'x', n: 5, modalities: [] }, /version/],
  ])('rejects a malformed manifest, naming the field (%#)', (raw, message) => {
    expect(() => parseManifest(raw, 'dataset.json')).toThrow(message);
  });
});
