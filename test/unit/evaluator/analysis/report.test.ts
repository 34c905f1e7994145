import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../../common/graph.js';
import { groupVariables } from '../../../../evaluator/analysis/groups.js';
import { buildAnalysis, formatReport, type AnalysisContext } from '../../../../evaluator/analysis/report.js';

// Nodes: latents of two modalities, then tabular variables.
const nodes = ['z1_1', 'z1_2', 'z2_1', 'z2_2', 'age', 'sex', 'grip', 'bmi'];
const at = (v: string): number => nodes.indexOf(v);
const graph: Graph = {
  nodes,
  edges: [
    [at('age'), at('z1_1'), '-->'],
    [at('z1_1'), at('z2_1'), '---'],
    [at('z2_1'), at('grip'), '-->'],
    [at('sex'), at('grip'), '-->'],
    [at('grip'), at('bmi'), '---'],
    [at('z1_1'), at('grip'), '-->'],
  ],
  meta: { bidirected: [[at('z1_2'), at('sex')]] },
};
const grouping = groupVariables(nodes.slice(0, 4), [1, 1, 2, 2], nodes.slice(4), ['FRight', 'Sleep']);
const context: AnalysisContext = {
  participants: 1234,
  alpha: 0.01,
  test: 'fisherz',
  max_cond: null,
  join: {
    mode: 'id',
    id_column: 'participant_id',
    dropped: { latents: 2, tabular: 1 },
    dropped_examples: { latents: ['p7', 'p9'], tabular: ['q1'] },
  },
  inputs: { run: 'runs/r', latents: 'runs/r/latents.csv', tabular: 'extra.csv', background: 'bk.json' },
  notes: [],
};

describe('phenotype analysis report', () => {
  const a = buildAnalysis(graph, grouping, context);

  it('lists, for each latent, the edges into, out of and undirected at it, with the other group', () => {
    expect(a.latents.map((l) => [l.name, l.group])).toEqual([
      ['z1_1', 'FRight'],
      ['z1_2', 'FRight'],
      ['z2_1', 'Sleep'],
      ['z2_2', 'Sleep'],
    ]);
    const z11 = a.latents[0]?.edges;
    expect(z11).toEqual([
      { kind: 'in', other: 'age', other_group: 'tabular', other_is_latent: false },
      { kind: 'out', other: 'grip', other_group: 'tabular', other_is_latent: false },
      { kind: 'undirected', other: 'z2_1', other_group: 'Sleep', other_is_latent: true },
    ]);
    expect(a.latents[1]?.edges).toEqual([
      { kind: 'bidirected', other: 'sex', other_group: 'tabular', other_is_latent: false },
    ]);
    // The latent-latent edge is seen from both ends.
    expect(a.latents[2]?.edges.map((e) => [e.kind, e.other])).toEqual([
      ['out', 'grip'],
      ['undirected', 'z1_1'],
    ]);
    expect(a.latents[3]?.edges).toEqual([]);
  });

  it('counts the edges and keeps those between tabular variables apart', () => {
    expect(a.edges).toEqual({ total: 7, directed: 4, undirected: 2, bidirected: 1, touching_latents: 5 });
    expect(a.other_edges).toEqual([
      { from: 'sex', to: 'grip', mark: '-->' },
      { from: 'grip', to: 'bmi', mark: '---' },
    ]);
    expect(a.groups).toEqual([
      { name: 'FRight', kind: 'modality', modality: 1, variables: ['z1_1', 'z1_2'] },
      { name: 'Sleep', kind: 'modality', modality: 2, variables: ['z2_1', 'z2_2'] },
      { name: 'tabular', kind: 'tabular', modality: null, variables: ['age', 'sex', 'grip', 'bmi'] },
    ]);
    expect(a).toMatchObject({ participants: 1234, alpha: 0.01, test: 'fisherz', max_cond: null });
    // JSON round trip: analysis.json holds exactly this.
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('renders a markdown report with a summary line and one section per latent', () => {
    const md = formatReport(a);
    expect(md).toContain(
      '**Summary:** 1234 participants used, alpha = 0.01, test = fisherz, 7 edges (4 directed, 2 undirected, 1 bidirected), 5 touching a latent.',
    );
    expect(md).toMatch(
      /Joined by participant ID `participant_id`: 1234 participants in both files; 2 rows of `runs\/r\/latents\.csv` without a match left out \(e\.g\. `p7`, `p9`\); 1 row of `extra\.csv`/,
    );
    expect(md).toContain('Background knowledge: `bk.json`');
    const section = md.slice(md.indexOf('### `z1_1` (FRight)'), md.indexOf('### `z1_2`'));
    expect(section.trim().split('\n').slice(2)).toEqual([
      '- `age` (tabular) → `z1_1`',
      '- `z1_1` → `grip` (tabular)',
      '- `z1_1` — `z2_1` (Sleep), undirected',
    ]);
    expect(md).toContain('- `z1_2` ↔ `sex` (tabular), bidirected');
    expect(md).toMatch(/### `z2_2` \(Sleep\)\n\nNo edges\./);
    expect(md).toContain('## Edges between tabular variables\n\n- `sex` → `grip`\n- `grip` — `bmi`');
  });

  it('reports a positional join, no background and a conditioning limit', () => {
    const md = formatReport(
      buildAnalysis({ nodes, edges: [] }, grouping, {
        ...context,
        max_cond: 2,
        join: { ...context.join, mode: 'position', id_column: null },
        inputs: { ...context.inputs, background: null },
        notes: ['result.json could not be read'],
      }),
    );
    expect(md).toContain('0 edges (0 directed, 0 undirected), 0 touching a latent.');
    expect(md).toContain('Joined by row position');
    expect(md).toContain('Background knowledge: none');
    expect(md).toContain('Largest conditioning set: 2');
    expect(md).toContain('- Note: result.json could not be read');
    expect(md).toContain('## Edges between tabular variables\n\nNone.');
  });
});
