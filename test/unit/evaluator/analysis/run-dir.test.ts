import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawingGroupOf, groupVariables } from '../../../../evaluator/analysis/groups.js';
import { modalityNamesOf, readRunLatents } from '../../../../evaluator/analysis/run-dir.js';
import { OTHER_GROUP } from '../../../../evaluator/export/palette.js';
import { errorOf } from '../../../helpers/errors.js';
import { tempDir } from '../../../helpers/tmp.js';

const root = tempDir('crl-analysis-');
function runDir(name: string, latents: string, result?: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latents.csv'), latents);
  if (result !== undefined) writeFileSync(join(dir, 'result.json'), result);
  return dir;
}

describe('modality names from result.json', () => {
  it('reads data.modalities as crl train writes it, and a top-level list of names', () => {
    expect(
      modalityNamesOf({ data: { modalities: [{ name: 'FRight', kind: 'image' }, { name: 'Sleep' }] } }),
    ).toEqual({
      names: ['FRight', 'Sleep'],
      notes: [],
    });
    expect(modalityNamesOf({ modalities: ['a', 'b'], data: { modalities: [{ name: 'x' }] } }).names).toEqual([
      'a',
      'b',
    ]);
  });

  it('reads defensively: nothing, or a note for an entry without a name', () => {
    expect(modalityNamesOf(null)).toEqual({ names: [], notes: [] });
    expect(modalityNamesOf({ mcc: 0.9 })).toEqual({ names: [], notes: [] });
    expect(modalityNamesOf({ modalities: 'FRight' })).toEqual({ names: [], notes: [] });
    const r = modalityNamesOf({ modalities: ['a', 7, { name: '' }] }, 'r.json');
    expect(r.names).toEqual(['a', undefined, undefined]);
    expect(r.notes).toEqual([
      'r.json: modalities[1] has no name; labelled "modality 2" instead',
      'r.json: modalities[2] has no name; labelled "modality 3" instead',
    ]);
  });
});

describe('reading a run directory', () => {
  it('reads keyed latents, their modalities and names; an unreadable result.json only costs the names', () => {
    const dir = runDir(
      'keyed',
      'participant_id,z1_1,z2_1,z2_2\np1,1,2,3\n',
      JSON.stringify({ data: { modalities: [{ name: 'FRight' }] } }),
    );
    const r = readRunLatents(dir, ['participant_id']);
    expect(r.source.ids).toEqual(['p1']);
    expect(r.modalityOf).toEqual([1, 2, 2]);
    expect(r.modalityNames).toEqual(['FRight']);
    expect(r.notes).toEqual([
      `${join(dir, 'result.json')} names no modality 2; labelled "modality m" instead`,
    ]);

    const broken = readRunLatents(runDir('broken', 'z1_1\n1\n', '{not json'), ['participant_id']);
    expect(broken.modalityNames).toEqual([]);
    expect(broken.notes[0]).toMatch(/result\.json could not be read/);
    expect(readRunLatents(runDir('bare', 'z1_1\n1\n'), ['participant_id']).notes).toEqual([]);
  });

  it('refuses a missing directory, a missing latents.csv and a column that is not a latent', () => {
    expect(errorOf(() => readRunLatents(join(root, 'nope'), [])).message).toMatch(/nope: is not a directory/);
    mkdirSync(join(root, 'empty'));
    expect(errorOf(() => readRunLatents(join(root, 'empty'), [])).message).toMatch(/has no latents\.csv/);
    const e = errorOf(() => readRunLatents(runDir('odd', 'z1_1,age\n1,2\n'), []));
    expect(e.where).toMatchObject({ line: 1, column: 'age' });
    expect(e.message).toMatch(/not a latent name z<m>_<i>/);
  });
});

describe('variable groups', () => {
  it('names modality groups, disambiguates shared names and keeps tabular variables apart', () => {
    const g = groupVariables(
      ['z1_1', 'z2_1', 'z3_1', 'z4_1'],
      [1, 2, 3, 4],
      ['age', 'z9_1'],
      ['eye', 'eye', 'tabular'],
    );
    expect(g.groups.map((x) => [x.name, x.variables])).toEqual([
      ['eye (modality 1)', ['z1_1']],
      ['eye (modality 2)', ['z2_1']],
      ['tabular (modality 3)', ['z3_1']],
      ['modality 4', ['z4_1']],
      ['tabular', ['age', 'z9_1']],
    ]);
    // A tabular column named like a latent is still tabular; the drawing colours tabular grey.
    expect(g.groupOf.get('z9_1')?.kind).toBe('tabular');
    const draw = drawingGroupOf(g);
    expect(['z1_1', 'z4_1', 'age', 'z9_1'].map(draw)).toEqual([
      'eye (modality 1)',
      'modality 4',
      OTHER_GROUP,
      OTHER_GROUP,
    ]);
  });
});
