/**
 * A trained run's whole code split by slot kind, for `crl train`'s `latents.csv`, `exogenous.csv`
 * and its aligned MCC (evaluator/metrics/aligned-mcc.ts), which needs every slot of a modality.
 */
import { makeTable, type Table } from '../../common/matrix.js';
import { exogenousName, latentName } from '../../common/graph.js';
import { selectByName, type ModalityCode } from '../../evaluator/index.js';
import type { ModelConfig } from '../../trainer/model/index.js';

/** Column names of the code slots in model order: z<m>_<i> then eta<m>_<j> per modality. */
export function codeColumns(config: Pick<ModelConfig, 'modalities'>): ModalityCode[] {
  return config.modalities.map((m, i) => ({
    name: m.name,
    latents: Array.from({ length: m.latents }, (_, k) => latentName(i + 1, k + 1)),
    exogenous: Array.from({ length: m.exogenous }, (_, k) => exogenousName(i + 1, k + 1)),
  }));
}

/**
 * A code (n x sum k_m + e_m, model order) as its latents `z<m>_<i>` (latents.csv, the scored
 * estimates) and its exogenous slots `eta<m>_<j>` (exogenous.csv), from one encoding pass.
 */
export function splitCode(
  code: Float32Array,
  config: Pick<ModelConfig, 'modalities'>,
  n: number,
): { latents: Table; exogenous: Table } {
  const cols = codeColumns(config);
  const full = makeTable(
    cols.flatMap((m) => [...m.latents, ...m.exogenous]),
    n,
    Float64Array.from(code),
  );
  const eta = cols.flatMap((m) => m.exogenous);
  return {
    latents: selectByName(
      full,
      cols.flatMap((m) => m.latents),
    ),
    // selectByName refuses an empty selection; a model without exogenous slots has none to write.
    exogenous: eta.length === 0 ? makeTable([], n) : selectByName(full, eta),
  };
}
