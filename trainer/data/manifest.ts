/**
 * `dataset.json`: the manifest that describes a dataset directory. Synthetic datasets and real
 * cohorts share it; a modality's `kind` says which loader and which encoder family apply
 * (only `tabular` CSV today; time series and images extend the union). Paths are relative to the
 * manifest's directory so a dataset directory can be moved or mounted anywhere.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { z } from 'zod';
import { invalidArgument } from '../../common/errors.js';

export const MANIFEST_FILE = 'dataset.json';

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && !normalize(p).startsWith('..'), {
    message: 'must be a path relative to the dataset directory, inside it',
  });

const columnName = z.string().min(1);

const tabularModality = z.object({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - and a leading letter'),
  kind: z.literal('tabular'),
  path: relativePath,
  format: z.literal('csv'),
  /** Number of observed columns; the file must have exactly these. */
  dims: z.number().int().positive(),
  /** Latent size to fit for this modality (k_m); a default for training, overridable. */
  latents: z.number().int().positive().optional(),
  /** Exogenous size to fit (e_m). */
  exogenous: z.number().int().nonnegative().optional(),
  /** Where the truth is known: which truth columns belong to this modality. */
  truth: z
    .object({ latents: z.array(columnName).min(1), exogenous: z.array(columnName).default([]) })
    .optional(),
});

export const manifestSchema = z
  .object({
    format: z.literal('crl-dataset'),
    version: z.literal(1),
    name: z.string().min(1),
    /** Rows (participants) in every modality file; rows are aligned by position. */
    n: z.number().int().positive(),
    modalities: z.array(tabularModality).min(1),
    truth: z
      .object({
        latents: relativePath,
        graph: relativePath,
        exogenous: relativePath.optional(),
        noise: relativePath.optional(),
      })
      .optional(),
    /** How the data were made (synthetic generator spec and seed); free-form provenance. */
    generator: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.modalities.forEach((mod, i) => {
      if (seen.has(mod.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['modalities', i, 'name'],
          message: `duplicate modality "${mod.name}"`,
        });
      }
      seen.add(mod.name);
    });
  });

export type DatasetManifest = z.infer<typeof manifestSchema>;
export type ModalityManifest = DatasetManifest['modalities'][number];

export function readManifest(dir: string): DatasetManifest {
  const file = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalidArgument(`cannot read dataset manifest: ${(err as Error).message}`, { file }, err);
  }
  return parseManifest(raw, file);
}

/** Validates a parsed manifest; the error names the first bad field as a path like `modalities[1].dims`. */
export function parseManifest(raw: unknown, file = MANIFEST_FILE): DatasetManifest {
  const result = manifestSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = (issue?.path ?? [])
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`))
    .join('');
  throw invalidArgument(issue?.message ?? 'invalid manifest', { file, field: field || '(root)' });
}
