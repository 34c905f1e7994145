import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDag, latentModality, readGraph } from '../../../common/graph.js';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('crl data generate', () => {
  const root = tempDir();
  /** crl data generate with c2 seed `seed` at 400 rows, then `extra`. */
  const generateC2 = (seed: string, ...extra: string[]) =>
    runCli(['data', 'generate', '--preset', 'c2', '--seed', seed, '--n', '400', ...extra]);

  it('writes byte-identical datasets for the same seed and different ones for another seed', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const c = join(root, 'c');
    for (const [dir, seed] of [
      [a, '1'],
      [b, '1'],
      [c, '2'],
    ] as const) {
      const r = await runCli([
        'data',
        'generate',
        '--preset',
        'c1',
        '--seed',
        seed,
        '--n',
        '2000',
        '--out',
        dir,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ n: 2000, inter_edges: 2, sparsity: 0.5 });
    }
    const sa = snapshot(a);
    const sb = snapshot(b);
    expect([...sa.keys()].sort()).toEqual([...sb.keys()].sort());
    for (const [k, v] of sa) expect(v.equals(sb.get(k)!), k).toBe(true);
    expect(sa.get('m1.csv')!.equals(snapshot(c).get('m1.csv')!)).toBe(false);
  });

  it('writes a truth graph that is a DAG with the requested inter-modal edges covering every modality', async () => {
    const dir = join(root, 'c3');
    const r = await runCli([
      'data',
      'generate',
      '--preset',
      'c3',
      '--seed',
      '4',
      '--n',
      '300',
      '--inter-edges',
      '5',
      '--out',
      dir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const g = readGraph(join(dir, 'truth/graph.json'));
    expect(isDag(g)).toBe(true);
    const inter = g.edges.filter(([x, y]) => latentModality(g.nodes[x]!) !== latentModality(g.nodes[y]!));
    expect(inter).toHaveLength(5);
    const touched = new Set(
      inter.flatMap(([x, y]) => [latentModality(g.nodes[x]!), latentModality(g.nodes[y]!)]),
    );
    expect(touched).toEqual(new Set([1, 2, 3, 4]));
    // 5 edges can touch all 8 latents, so by default every latent has an inter-modal edge.
    expect(new Set(inter.flatMap(([x, y]) => [x, y]))).toEqual(new Set(g.nodes.map((_, i) => i)));
    const check = await runCli(['data', 'check', dir]);
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).truth).toEqual({ latents: 8, graph_edges: 5 });
  });

  it.each([
    [['--preset', 'c9'], /--preset.*unknown preset "c9"/],
    [['--preset', 'c1', '--dims', '-3'], /--dims must be at least 1, got -3/],
    [['--preset', 'c1', '--dims', '15,x'], /--dims must be an integer, got "x"/],
    [['--preset', 'c1', '--sparsity', '1.5'], /--sparsity must be at most 1/],
    [['--preset', 'c1', '--n', 'ten'], /--n must be an integer/],
    [['--preset', 'c1', '--inter-edges', '9'], /--inter-edges.*only 4 are possible/],
    [
      ['--preset', 'c3', '--inter-edges', '3', '--coverage', 'latent'],
      /--coverage.*8 latents.*at least 4 needed/,
    ],
    [['--preset', 'c1', '--coverage', 'all'], /--coverage must be one of auto, latent, modality/],
    [
      ['--preset', 'ablation-75', '--require-conditions'],
      /--require-conditions.*edge count of 1 leaves some latent/,
    ],
    [
      ['--preset', 'ablation-0', '--require-conditions'],
      /--require-conditions.*no draw of 4 inter-modal edges/,
    ],
  ])('rejects %j with exit code 2 and writes nothing', async (args, message) => {
    const out = join(root, `bad-${Math.random().toString(36).slice(2)}`);
    const r = await runCli(['data', 'generate', ...args, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('refuses to overwrite an existing dataset unless --force, and keeps it intact', async () => {
    const dir = join(root, 'existing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'results.csv'), 'keep me');
    const r = await runCli(['data', 'generate', '--preset', 'c1', '--n', '100', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out.*not empty.*--force/);
    expect(readFileSync(join(dir, 'results.csv'), 'utf8')).toBe('keep me');
    const forced = await runCli([
      'data',
      'generate',
      '--preset',
      'c1',
      '--n',
      '100',
      '--out',
      dir,
      '--force',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(existsSync(join(dir, 'results.csv'))).toBe(false);
    expect(existsSync(join(dir, 'dataset.json'))).toBe(true);
  });

  it('reports what the drawn truth lets any method identify, on stdout and in the manifest', async () => {
    // c2 seed 1 draws z1_2, z1_3 -> z2_2 only and z1_1 -> z2_1, z2_3 only: two exchangeable pairs.
    const dir = join(root, 'c2-s1');
    const r = await generateC2('1', '--out', dir);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout).identifiability;
    expect(printed).toMatchObject({
      conditions_met: false,
      exchangeable: [
        ['z1_2', 'z1_3'],
        ['z2_1', 'z2_3'],
      ],
      unlinked: [],
    });
    const recorded = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')).generator.identifiability;
    expect(recorded.exchangeable).toEqual(printed.exchangeable);
    expect(recorded.edges).toHaveLength(4);
    expect(Math.min(...recorded.edges.map((e: { total_effect: number }) => e.total_effect))).toBe(
      printed.weakest_edge.total_effect,
    );
    // --require-conditions redraws seed 1's edges until every latent has neighbours of its own.
    const redrawn = join(root, 'c2-s1-conditions');
    const rc = await generateC2('1', '--require-conditions', '--out', redrawn);
    expect(rc.code, rc.stderr).toBe(0);
    expect(JSON.parse(rc.stdout).identifiability).toMatchObject({ conditions_met: true, exchangeable: [] });
    const spec = JSON.parse(readFileSync(join(redrawn, 'dataset.json'), 'utf8')).generator.spec;
    expect(spec.requireConditions).toBe(true);
    const other = await generateC2('2', '--out', join(root, 'c2-s2'));
    expect(JSON.parse(other.stdout).identifiability.conditions_met).toBe(true);
  });

  it('lists presets', async () => {
    const r = await runCli(['data', 'presets']);
    expect(JSON.parse(r.stdout).map((p: { name: string }) => p.name)).toContain('ablation-75');
  });
});
