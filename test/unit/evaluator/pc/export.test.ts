import { describe, expect, it } from 'vitest';
import { toDot } from '../../../../evaluator/export/dot.js';
import {
  groupColours,
  MODALITY_COLOURS,
  modalityGroup,
  OTHER_COLOUR,
} from '../../../../evaluator/export/palette.js';
import { graphToSvg } from '../../../../evaluator/export/svg.js';
import { Pdag } from '../../../../evaluator/pc/pdag.js';
import { graphOf } from './helpers.js';

const nodes = ['age', 'z1_1', 'z1_2', 'z2_1', 'say "hi"'];
const graph = graphOf(nodes, 'age->z1_1, z1_1--z1_2, z1_2->z2_1');

describe('graph export', () => {
  it('groups latents by modality and everything else as tabular', () => {
    expect(nodes.map(modalityGroup)).toEqual([
      'tabular/other',
      'modality 1',
      'modality 1',
      'modality 2',
      'tabular/other',
    ]);
    const colours = groupColours(['modality 2', 'tabular/other', 'modality 1']);
    expect(colours.get('modality 1')).toBe(MODALITY_COLOURS[0]);
    expect(colours.get('modality 2')).toBe(MODALITY_COLOURS[1]);
    expect(colours.get('tabular/other')).toBe(OTHER_COLOUR);
  });

  it('writes DOT with arrows, undirected edges without heads, colours and escaped names', () => {
    const dot = toDot(graph, { title: 'PC' });
    expect(dot).toContain('"age" -> "z1_1";');
    expect(dot).toContain('"z1_1" -> "z1_2" [dir=none];');
    expect(dot).toContain(`"z1_1" [fillcolor="${MODALITY_COLOURS[0]}", tooltip="modality 1"];`);
    expect(dot).toContain(`"z2_1" [fillcolor="${MODALITY_COLOURS[1]}"`);
    expect(dot).toContain(`"age" [fillcolor="${OTHER_COLOUR}"`);
    expect(dot).toContain('"say \\"hi\\""');
    expect(dot).toContain('cluster_legend');
  });

  it('draws bidirected edges and bootstrap frequencies', () => {
    const g = Pdag.fromGraph(graph);
    g.setBidirected(0, 4);
    const dot = toDot(g.toGraph(nodes), {
      frequencies: [{ a: 0, b: 1, adjacent: 0.9, forward: 0.8, backward: 0, undirected: 0.1, bidirected: 0 }],
    });
    expect(dot).toContain('"age" -> "say \\"hi\\"" [dir=both];');
    expect(dot).toContain('"age" -> "z1_1" [label="0.80"];');
  });

  it('renders SVG in-process', async () => {
    const svg = await graphToSvg(graph);
    expect(svg).toMatch(/<svg[\s\S]*<\/svg>\s*$/);
    expect(svg).toContain('<title>z1_1</title>');
    expect(svg).toContain(MODALITY_COLOURS[0]);
  });
});
