/**
 * Node groups and their colours for graph drawings. As in the paper's Figure 6, variables of one
 * modality share a colour: latents named z<m>_<i> belong to modality m, everything else (tabular
 * phenotypes such as age) to one "tabular/other" group. Modality m always gets the same colour, so
 * drawings of different runs can be compared at a glance.
 */
import { latentModality } from '../../common/graph.js';

export const OTHER_GROUP = 'tabular/other';
export const OTHER_COLOUR = '#d9d9d9';

/** Fill colours for modalities 1, 2, ... (ColorBrewer Set3, then cycling). */
export const MODALITY_COLOURS = [
  '#8dd3c7',
  '#fdb462',
  '#bebada',
  '#fb8072',
  '#80b1d3',
  '#b3de69',
  '#fccde5',
  '#ffffb3',
  '#bc80bd',
  '#ccebc5',
] as const;

/** Group of a node by the project's naming convention: "modality m" or "tabular/other". */
export function modalityGroup(name: string): string {
  const m = latentModality(name);
  return m === undefined ? OTHER_GROUP : `modality ${m}`;
}

/**
 * Colour per group: "modality m" groups by m, the tabular group grey, other group names palette
 * colours in sorted order (deterministic for a given set of groups).
 */
export function groupColours(groups: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  const custom: string[] = [];
  for (const g of new Set(groups)) {
    const m = /^modality (\d+)$/.exec(g);
    if (g === OTHER_GROUP) out.set(g, OTHER_COLOUR);
    else if (m) out.set(g, MODALITY_COLOURS[(Number(m[1]) - 1) % MODALITY_COLOURS.length] as string);
    else custom.push(g);
  }
  // Custom groups take colours from the end of the palette, away from the low modality numbers.
  const k = MODALITY_COLOURS.length;
  custom.sort().forEach((g, i) => out.set(g, MODALITY_COLOURS[k - 1 - (i % k)] as string));
  return out;
}
