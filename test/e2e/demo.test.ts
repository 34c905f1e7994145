import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNumericCsv } from '../../common/csv.js';
import { latentModality, parseGraph } from '../../common/graph.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('crl demo (the main job)', () => {
  const root = tempDir();

  it('generates, estimates and scores end to end, writing the run directory', async () => {
    const out = join(root, 'run');
    const r = await runCli(['demo', '--out', out, '--n', '1500', '--seed', '3']);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    const saved = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(saved.mcc).toBe(printed.mcc);
    // PCA recovers a linear mix of latents and exogenous variables: informative, far from perfect.
    expect(saved.mcc).toBeGreaterThan(0.3);
    expect(saved.mcc).toBeLessThan(0.95);
    expect(Object.keys(saved.mcc_per_modality)).toEqual(['1', '2']);
    expect(saved.r2).toBeGreaterThan(0.3);
    expect(saved.matching).toHaveLength(4);
    const latents = readNumericCsv(join(out, 'latents.csv'));
    expect(latents.columns).toEqual(['z1_1', 'z1_2', 'z2_1', 'z2_2']);
    expect(latents.nRows).toBe(1500);
    expect(existsSync(join(out, 'data', 'dataset.json'))).toBe(true);
    // The graph PC found among the estimated latents, scored against the truth after matching.
    const graph = parseGraph(JSON.parse(readFileSync(join(out, 'graph.json'), 'utf8')));
    expect(graph.nodes).toEqual(latents.columns);
    for (const [a, b, mark] of graph.edges) {
      // Modality order is background knowledge: no edge points from a later to an earlier modality.
      if (mark === '-->')
        expect(latentModality(graph.nodes[a]!)!).toBeLessThanOrEqual(latentModality(graph.nodes[b]!)!);
    }
    expect(saved.shd).toBe(
      saved.graph_differences.missing.length +
        saved.graph_differences.extra.length +
        saved.graph_differences.reversed.length +
        saved.graph_differences.misoriented.length,
    );
    expect(readFileSync(join(out, 'graph.svg'), 'utf8')).toMatch(/<svg[\s\S]*z1_1[\s\S]*<\/svg>/);
  });

  it('replaces its own previous run but refuses any other directory', async () => {
    const out = join(root, 'run');
    const again = await runCli(['demo', '--out', out, '--n', '200', '--seed', '4']);
    expect(again.code, again.stderr).toBe(0);
    expect(readNumericCsv(join(out, 'latents.csv')).nRows).toBe(200);

    const foreign = join(root, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    const refused = await runCli(['demo', '--out', foreign, '--n', '200']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--out.*not a previous demo run/);
    expect(readFileSync(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
