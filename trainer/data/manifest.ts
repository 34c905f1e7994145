/**
 * `dataset.json`: the manifest that describes a dataset directory. Synthetic datasets and real
 * cohorts share it; a modality's `kind` says which loader and which encoder family apply:
 *
 *   tabular     CSV (header row) or Parquet, one row per participant, `dims` numeric columns
 *   timeseries  NPY: one array [n, T, C] (`layout: array`) or one [T, C] file per participant
 *               named `<participant id>.npy` in the directory `path` (`layout: per-participant`)
 *   image       NPY [n, H, W, C] (`layout: array`), or one PNG/JPEG per participant named
 *               `<participant id>.png|.jpg` in the directory `path`
 *
 * Rows are matched across modalities in one of two ways, never mixed:
 * - by position (every modality has exactly `n` rows, row r is the same participant everywhere):
 *   the synthetic datasets;
 * - by participant ID: a tabular file's `id_column`, an array's `ids` file (one ID per line, in
 *   row order), or the file names of a per-participant directory. Participants are the IDs of
 *   `participants` (one per line) when given, else the union over modalities in manifest order;
 *   a participant may lack a modality (masked out of that modality's losses).
 *
 * Paths are relative to the manifest's directory so a dataset directory can be moved or mounted
 * anywhere.
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
const positive = z.number().int().positive();

const modalityCommon = {
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - and a leading letter'),
  path: relativePath,
  /** Latent size to fit for this modality (k_m); a default for training, overridable. */
  latents: positive.optional(),
  /** Exogenous size to fit (e_m). */
  exogenous: z.number().int().nonnegative().optional(),
  /** Where the truth is known: which truth columns belong to this modality. */
  truth: z
    .object({ latents: z.array(columnName).min(1), exogenous: z.array(columnName).default([]) })
    .optional(),
};

const tabularModality = z.object({
  ...modalityCommon,
  kind: z.literal('tabular'),
  format: z.enum(['csv', 'parquet']).default('csv'),
  /** Number of observed columns (besides the ID column); the file must have exactly these. */
  dims: positive,
  /** The participant ID column: rows are matched by ID rather than by position. */
  id_column: columnName.optional(),
});

const timeseriesModality = z.object({
  ...modalityCommon,
  kind: z.literal('timeseries'),
  format: z.literal('npy'),
  layout: z.enum(['array', 'per-participant']).default('array'),
  /** Time steps T and channels C of one participant's series. */
  length: positive,
  channels: positive,
  /** For `layout: array`: participant IDs in row order, one per line. */
  ids: relativePath.optional(),
});

const imageModality = z.object({
  ...modalityCommon,
  kind: z.literal('image'),
  /** `npy` is an [n, H, W, C] array; `png`/`jpeg` are one file per participant in `path`. */
  format: z.enum(['npy', 'png', 'jpeg']),
  height: positive,
  width: positive,
  channels: positive,
  ids: relativePath.optional(),
});

const modality = z.discriminatedUnion('kind', [tabularModality, timeseriesModality, imageModality]);

export const manifestSchema = z
  .object({
    format: z.literal('crl-dataset'),
    version: z.literal(1),
    name: z.string().min(1),
    /** Rows (participants): required when rows are matched by position, checked otherwise. */
    n: positive.optional(),
    /** Participant IDs, one per line, in the order the run reports them (keyed cohorts). */
    participants: relativePath.optional(),
    modalities: z.array(modality).min(1),
    truth: z
      .object({
        latents: relativePath,
        graph: relativePath,
        exogenous: relativePath.optional(),
        noise: relativePath.optional(),
        /** Keyed cohorts: the truth CSVs' participant ID column (rows are joined by it). */
        id_column: columnName.optional(),
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
      if (mod.kind === 'image' && mod.format !== 'npy' && mod.ids !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['modalities', i, 'ids'],
          message: 'per-participant image files are keyed by their file names; drop "ids"',
        });
      }
      if (mod.kind === 'timeseries' && mod.layout === 'per-participant' && mod.ids !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['modalities', i, 'ids'],
          message: 'per-participant series are keyed by their file names; drop "ids"',
        });
      }
    });
    const keyed = m.modalities.map(isKeyed);
    if (keyed.some((k) => k) && keyed.some((k) => !k)) {
      const i = keyed.indexOf(false);
      ctx.addIssue({
        code: 'custom',
        path: ['modalities', i],
        message: `modality "${m.modalities[i]?.name}" is matched by position but others by participant ID: give it an id_column or ids file`,
      });
    }
    if (!keyed.some((k) => k) && m.n === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['n'],
        message: 'required when rows are matched by position (no participant IDs)',
      });
    }
    if (keyed.some((k) => k) && m.truth !== undefined && m.truth.id_column === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['truth', 'id_column'],
        message: 'a cohort keyed by participant ID needs the truth files keyed too',
      });
    }
    if (keyed.some((k) => k) && m.truth !== undefined && m.participants === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['participants'],
        message: 'a keyed cohort with truth lists its participants, so runs and truth share one row order',
      });
    }
  });

export type DatasetManifest = z.infer<typeof manifestSchema>;
export type ModalityManifest = DatasetManifest['modalities'][number];

/** Whether the modality's rows carry participant IDs (else they are matched by position). */
export function isKeyed(mod: ModalityManifest): boolean {
  switch (mod.kind) {
    case 'tabular':
      return mod.id_column !== undefined;
    case 'timeseries':
      return mod.layout === 'per-participant' || mod.ids !== undefined;
    case 'image':
      return mod.format !== 'npy' || mod.ids !== undefined;
  }
}

/** Per-row shape as the model sees it (see ModalitySpec.shape). */
export function manifestRowShape(mod: ModalityManifest): number[] {
  switch (mod.kind) {
    case 'tabular':
      return [mod.dims];
    case 'timeseries':
      return [mod.length, mod.channels];
    case 'image':
      return [mod.height, mod.width, mod.channels];
  }
}

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
