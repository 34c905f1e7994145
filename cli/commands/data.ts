/** `crl data ...`: make and inspect dataset directories. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { basename } from 'node:path';
import { loadCohort } from '../../trainer/data/cohort/load.js';
import { loadTruth } from '../../trainer/data/dataset.js';
import { FILE_PRESETS } from '../../trainer/data/file-presets.js';
import { generateSynthetic } from '../../trainer/data/synthetic/generate.js';
import { identifiabilitySummary } from '../../trainer/data/synthetic/identifiability.js';
import { PRESETS, resolveSpec } from '../../trainer/data/synthetic/spec.js';
import { writeSyntheticDataset } from '../../trainer/data/synthetic/write.js';
import { choiceFlag, integerFlag, numberFlag, printJson } from '../options.js';

interface GenerateFlags {
  preset?: string;
  seed: number;
  out: string;
  name?: string;
  n?: number;
  modalities?: number;
  latents?: number[];
  exogenous?: number[];
  dims?: number[];
  sparsity?: number;
  interEdges?: number;
  coverage?: 'auto' | 'latent' | 'modality';
  requireConditions?: boolean;
  intraProb?: number;
  noiseStd?: number;
  imageFormat?: 'npy' | 'png';
  tabularFormat?: 'csv' | 'parquet';
  missing?: number;
  force?: boolean;
}

/** "2" or "2,3,2": one value for all modalities or one each. */
function integerListFlag(flag: string, min: number) {
  const one = integerFlag(flag, { min });
  return (value: string): number[] => {
    const parts = value.split(',');
    if (parts.some((p) => p.trim() === ''))
      throw new InvalidArgumentError(`${flag} must be a comma-separated list of integers, got "${value}"`);
    return parts.map(one);
  };
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('generate and check dataset directories');

  data
    .command('generate')
    .description('generate a synthetic multimodal dataset with its ground-truth latents and graph')
    .option('--preset <name>', `one of ${[...Object.keys(PRESETS), ...Object.keys(FILE_PRESETS)].join(', ')}`)
    .requiredOption('--out <dir>', 'output dataset directory (refuses a non-empty one unless --force)')
    .option(
      '--seed <s>',
      'random seed; the same seed writes byte-identical files',
      integerFlag('--seed', { min: 0 }),
      0,
    )
    .option('--name <name>', 'dataset name in the manifest (default: preset or directory name)')
    .option('--n <rows>', 'number of samples (default 10000)', integerFlag('--n', { min: 2 }))
    .option('--modalities <M>', 'number of modalities', integerFlag('--modalities', { min: 2 }))
    .option(
      '--latents <k>',
      'causally related latents per modality: k or k1,k2,...',
      integerListFlag('--latents', 1),
    )
    .option(
      '--exogenous <e>',
      'exogenous variables per modality: e or e1,e2,...',
      integerListFlag('--exogenous', 0),
    )
    .option('--dims <d>', 'observed dims per modality: d or d1,d2,...', integerListFlag('--dims', 1))
    .option(
      '--sparsity <s>',
      'fraction of possible inter-modal edges that are absent, in [0,1]',
      numberFlag('--sparsity', { min: 0, max: 1 }),
    )
    .option(
      '--inter-edges <E>',
      'exact number of inter-modal edges (overrides --sparsity)',
      integerFlag('--inter-edges', { min: 0 }),
    )
    .option(
      '--coverage <c>',
      'what the inter-modal edges must touch: latent (every latent), modality, or auto (latent when the edge count allows)',
      choiceFlag('--coverage', ['auto', 'latent', 'modality'] as const),
      'auto',
    )
    .option(
      '--require-conditions',
      "redraw the inter-modal edges until no two latents of a modality share their parents and children (the paper's structural conditions; off by default)",
    )
    .option(
      '--intra-prob <p>',
      'probability of each intra-modal edge (default 0)',
      numberFlag('--intra-prob', { min: 0, max: 1 }),
    )
    .option(
      '--noise-std <s>',
      'standard deviation of the causal noise (default 1)',
      numberFlag('--noise-std', { min: 0, exclusiveMin: true }),
    )
    .option(
      '--image-format <f>',
      'phenotype: images as one NPY array or one PNG per participant',
      choiceFlag('--image-format', ['npy', 'png'] as const),
    )
    .option(
      '--tabular-format <f>',
      'phenotype: blood tests as CSV or Parquet',
      choiceFlag('--tabular-format', ['csv', 'parquet'] as const),
    )
    .option(
      '--missing <fraction>',
      'phenotype: fraction of participants lacking sleep, and separately the left eye',
      numberFlag('--missing', { min: 0, max: 0.5 }),
    )
    .option('--force', 'replace an existing output directory')
    .action(async (flags: GenerateFlags) => {
      const filePreset = flags.preset === undefined ? undefined : FILE_PRESETS[flags.preset];
      if (filePreset !== undefined) {
        const started = performance.now();
        const manifest = await filePreset.write(flags.out, {
          seed: flags.seed,
          overwrite: flags.force ?? false,
          ...(flags.n === undefined ? {} : { n: flags.n }),
          ...(flags.imageFormat === undefined ? {} : { imageFormat: flags.imageFormat }),
          ...(flags.tabularFormat === undefined ? {} : { tabularFormat: flags.tabularFormat }),
          ...(flags.missing === undefined ? {} : { missing: flags.missing }),
        });
        printJson({
          out: flags.out,
          name: manifest.name,
          preset: flags.preset,
          modalities: manifest.modalities.map((m) => ({ name: m.name, kind: m.kind, latents: m.latents })),
          seed: flags.seed,
          seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
        });
        return;
      }
      const spec = resolveSpec(flags.preset, {
        ...(flags.modalities !== undefined ? { modalities: flags.modalities } : {}),
        ...(flags.latents !== undefined ? { latents: flags.latents } : {}),
        ...(flags.exogenous !== undefined ? { exogenous: flags.exogenous } : {}),
        ...(flags.dims !== undefined ? { dims: flags.dims } : {}),
        ...(flags.n !== undefined ? { n: flags.n } : {}),
        ...(flags.sparsity !== undefined ? { sparsity: flags.sparsity } : {}),
        ...(flags.interEdges !== undefined ? { interEdges: flags.interEdges } : {}),
        ...(flags.coverage !== undefined ? { coverage: flags.coverage } : {}),
        ...(flags.requireConditions === true ? { requireConditions: true } : {}),
        ...(flags.intraProb !== undefined ? { intraProb: flags.intraProb } : {}),
        ...(flags.noiseStd !== undefined ? { noiseStd: flags.noiseStd } : {}),
        seed: flags.seed,
      });
      const started = performance.now();
      const dataset = generateSynthetic(spec);
      const name = flags.name ?? flags.preset ?? basename(flags.out);
      const manifest = writeSyntheticDataset(dataset, flags.out, {
        name,
        ...(flags.preset !== undefined ? { preset: flags.preset } : {}),
        overwrite: flags.force ?? false,
      });
      printJson({
        out: flags.out,
        name: manifest.name,
        n: manifest.n,
        modalities: manifest.modalities.map((m) => ({
          name: m.name,
          dims: m.kind === 'tabular' ? m.dims : undefined,
          latents: m.latents,
          exogenous: m.exogenous,
        })),
        graph: { nodes: dataset.graph.nodes.length, edges: dataset.graph.edges.length },
        inter_edges: manifest.generator?.['inter_edges'],
        sparsity: manifest.generator?.['sparsity'],
        coverage: spec.coverage,
        identifiability: identifiabilitySummary(dataset.identifiability),
        seed: spec.seed,
        seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      });
    });

  data
    .command('presets')
    .description('list the synthetic dataset presets')
    .action(() => {
      printJson([
        ...Object.entries(PRESETS).map(([name, p]) => ({
          name,
          description: p.description,
          modalities: p.modalities,
          latents: p.latents,
          exogenous: p.exogenous,
          dims: p.dims,
          ...(p.sparsity !== undefined ? { sparsity: p.sparsity } : {}),
          ...(p.interEdges !== undefined ? { inter_edges: p.interEdges } : {}),
        })),
        ...Object.entries(FILE_PRESETS).map(([name, p]) => ({
          name,
          description: p.description,
          default_n: p.defaultN,
        })),
      ]);
    });

  data
    .command('check <dir>')
    .description(
      'validate a dataset directory (manifest, participant join, every modality file, truth) and summarise it',
    )
    .action(async (dir: string) => {
      const cohort = await loadCohort(dir);
      try {
        const truth = loadTruth(dir, cohort.manifest);
        printJson({
          dir,
          name: cohort.manifest.name,
          n: cohort.n,
          keyed_by_participant: cohort.participants !== undefined,
          modalities: cohort.specs.map((m, i) => ({
            name: m.name,
            kind: m.kind,
            shape: m.shape ?? [m.dims],
            latents: m.latents,
            participants: cohort.presence[i]?.reduce((a, b) => a + b, 0) ?? cohort.n,
          })),
          truth: truth
            ? { latents: truth.latents.columns.length, graph_edges: truth.graph.edges.length }
            : null,
        });
      } finally {
        cohort.blocks.forEach((b) => b.close());
      }
    });
}
