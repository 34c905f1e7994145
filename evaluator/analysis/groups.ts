/**
 * Variable groups of an analysis, as in the paper's Figure 6: the latents of one modality form a
 * group (named after the modality, or "modality m"), the extra tabular variables another. Groups
 * come from where a variable came from, not from its name, so a tabular column that happens to
 * look like `z3_1` is still tabular.
 */
import { OTHER_GROUP } from '../export/palette.js';

export const TABULAR_GROUP = 'tabular';

export interface VariableGroup {
  /** Label used in the report, analysis.json and the drawing's legend. */
  name: string;
  kind: 'modality' | 'tabular';
  /** 1-based modality (kind 'modality'). */
  modality?: number;
  variables: string[];
}

export interface Grouping {
  /** Modality groups by modality number, then the tabular group. */
  groups: VariableGroup[];
  /** Group of every variable by name. */
  groupOf: ReadonlyMap<string, VariableGroup>;
}

/**
 * Groups latents by modality (`modalityOf[k]`, 1-based, for latent column k) and tabular columns
 * into one group. A modality is labelled by `modalityNames[m - 1]`, else "modality m"; a name that
 * two modalities share, or that the tabular group uses, gets " (modality m)" appended.
 */
export function groupVariables(
  latentColumns: readonly string[],
  modalityOf: readonly number[],
  tabularColumns: readonly string[],
  modalityNames: readonly (string | undefined)[] = [],
): Grouping {
  const modalities = [...new Set(modalityOf)].sort((a, b) => a - b);
  const base = new Map(modalities.map((m) => [m, modalityNames[m - 1] ?? `modality ${m}`] as const));
  const uses = new Map<string, number>();
  for (const label of base.values()) uses.set(label, (uses.get(label) ?? 0) + 1);
  const groups: VariableGroup[] = modalities.map((m) => {
    const label = base.get(m) as string;
    const clash = (uses.get(label) ?? 0) > 1 || label === TABULAR_GROUP || label === OTHER_GROUP;
    return {
      name: clash ? `${label} (modality ${m})` : label,
      kind: 'modality',
      modality: m,
      variables: latentColumns.filter((_, k) => modalityOf[k] === m),
    };
  });
  if (tabularColumns.length > 0)
    groups.push({ name: TABULAR_GROUP, kind: 'tabular', variables: [...tabularColumns] });
  const groupOf = new Map<string, VariableGroup>();
  for (const g of groups) for (const v of g.variables) groupOf.set(v, g);
  return { groups, groupOf };
}

/**
 * Colour class of a variable for `toDot`'s `groupOf`: the modality group's label (unnamed
 * modality m keeps the palette's colour for m), the palette's grey "tabular/other" for tabular.
 */
export function drawingGroupOf(grouping: Grouping): (name: string) => string {
  return (name) => {
    const g = grouping.groupOf.get(name);
    return g === undefined || g.kind === 'tabular' ? OTHER_GROUP : g.name;
  };
}
