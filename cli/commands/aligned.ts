/**
 * The exogenous slots of a trained run's code, for `crl train`'s `exogenous.csv` and its aligned MCC
 * (evaluator/metrics/aligned-mcc.ts), which needs every slot of a modality, not only its latents.
 */
import { makeTable, selectColumns, type Table } from '../../common/matrix.js';
import type { ModalityCode } from '../../evaluator/index.js';
import type { ModelConfig } from '../../trainer/model/index.js';

/** Column names of the code slots in model order: z<m>_<i> then eta<m>_<j> per modality. */
export function codeColumns(config: Pick<ModelConfig, 'modalities'>): ModalityCode[] {
  return config.modalities.map((m, i) => ({
    name: m.name,
    latents: Array.from({ length: m.latents }, (_, k) => `z${i + 1}_${k + 1}`),
    exogenous: Array.from({ length: m.exogenous }, (_, k) => `eta${i + 1}_${k + 1}`),
  }));
}

/** The exogenous slots of a code (n x sum k_m + e_m, model order) as a table, `eta<m>_<j>`. */
export function exogenousTable(
  code: Float32Array,
  config: Pick<ModelConfig, 'modalities'>,
  n: number,
): Table {
  const names = codeColumns(config).flatMap((m) => [...m.latents, ...m.exogenous]);
  const full = makeTable(names, n, Float64Array.from(code));
  return selectColumns(
    full,
    names.flatMap((c, j) => (c.startsWith('eta') ? [j] : [])),
  );
}
