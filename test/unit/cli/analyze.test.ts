import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const root = tempDir('crl-analyze-cli-');
const file = (name: string, text: string): string => {
  const p = join(root, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
};
const KEYED_LATENTS = 'participant_id,z1_1,z2_1\np1,0.1,0.5\np2,0.3,-0.2\np3,-0.4,0.9\np4,1.2,0.3\n';
const PLAIN_LATENTS = 'z1_1,z2_1\n0.1,0.5\n0.3,-0.2\n0.4,0.9\n';
file('keyed/latents.csv', KEYED_LATENTS);
file('plain/latents.csv', PLAIN_LATENTS);
const keyed = join(root, 'keyed');
const plain = join(root, 'plain');

async function analyze(run: string, tabular: string, ...more: string[]) {
  const out = join(root, `out-${Math.random().toString(36).slice(2)}`);
  const r = await runCli(['analyze', '--run', run, '--tabular', tabular, '--out', out, ...more]);
  return { ...r, out };
}

describe('crl analyze input errors', () => {
  it('refuses IDs in one file only, naming both files', async () => {
    const r = await analyze(keyed, file('plain.csv', 'age\n1\n2\n3\n4\n'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /latents\.csv has a participant ID column "participant_id" but .*plain\.csv has none/,
    );
    expect(existsSync(r.out)).toBe(false);
  });

  it('refuses a positional row-count mismatch, naming both files and counts', async () => {
    const r = await analyze(plain, file('short.csv', 'age\n1\n2\n'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plain\/latents\.csv has 3 rows but .*short\.csv has 2/);
  });

  it('refuses a duplicated participant ID, naming the file, the ID and both lines', async () => {
    const r = await analyze(keyed, file('dup.csv', 'participant_id,age\np1,1\np2,2\np2,3\n'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /dup\.csv:4, column "participant_id": participant ID "p2" appears twice \(lines 3 and 4\)/,
    );
  });

  it('refuses an empty cell in the tabular file, naming file, line and column', async () => {
    const r = await analyze(keyed, file('hole.csv', 'participant_id,age,grip\np1,1,2\np2,,3\n'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hole\.csv:3, column "age": empty cell/);
  });

  it('refuses no participants in common', async () => {
    const r = await analyze(keyed, file('others.csv', 'participant_id,age\nq1,1\nq2,2\n'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no participant is in both/);
  });

  it('refuses a tabular column that collides with a latent column', async () => {
    const r = await analyze(keyed, file('clash.csv', 'participant_id,age,z2_1\np1,1,2\np2,2,3\n'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/clash\.csv:1, column "z2_1": column "z2_1" has the name of a latent/);
  });

  it('refuses an --id-column that neither file has', async () => {
    const r = await analyze(plain, file('p.csv', 'age\n1\n2\n3\n'), '--id-column', 'subject');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--id-column: neither .* nor .*p\.csv has the participant ID column "subject"/);
  });

  it('joins latents keyed by participant_id with a tabular file keyed by another --id-column', async () => {
    file('keyed2/latents.csv', KEYED_LATENTS);
    const t = file('subject.csv', 'subject,age\np4,1.5\np2,-0.7\np1,0.2\np3,0.9\n');
    const r = await analyze(join(root, 'keyed2'), t, '--id-column', 'subject');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      participants: 4,
      join: { mode: 'id', id_column: 'subject', dropped: { latents: 0, tabular: 0 } },
    });
  });

  it('refuses unknown variables in the background file, naming the file and the name', async () => {
    const t = file('ok.csv', 'participant_id,age\np1,1.5\np2,-0.7\np3,0.2\np4,0.9\n');
    const bk = file('bk.json', JSON.stringify({ tiers: [['age', 'sex']] }));
    const r = await analyze(keyed, t, '--background', bk);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bk\.json, tiers\[0\]\[1\]: unknown variable "sex"/);
  });

  it('names the missing run directory and latents.csv', async () => {
    const t = file('ok2.csv', 'age\n1\n');
    expect((await analyze(join(root, 'nowhere'), t)).stderr).toMatch(/nowhere: is not a directory/);
    mkdirSync(join(root, 'norun'));
    expect((await analyze(join(root, 'norun'), t)).stderr).toMatch(/norun: has no latents\.csv/);
  });
});
