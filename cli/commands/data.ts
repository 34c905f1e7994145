/** `crl data ...`: make and inspect dataset directories. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { basename } from 'node:path';
import { loadDataset, loadTruth } from '../../trainer/data/dataset.js';
import { generateSynthetic } from '../../trainer/data/synthetic/generate.js';
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
  intraProb?: number;
  noiseStd?: number;
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
    .option('--preset <name>', `one of ${Object.keys(PRESETS).join(', ')}`)
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
      '--intra-prob <p>',
      'probability of each intra-modal edge (default 0)',
      numberFlag('--intra-prob', { min: 0, max: 1 }),
    )
    .option(
      '--noise-std <s>',
      'standard deviation of the causal noise (default 1)',
      numberFlag('--noise-std', { min: 0, exclusiveMin: true }),
    )
    .option('--force', 'replace an existing output directory')
    .action((flags: GenerateFlags) => {
      const spec = resolveSpec(flags.preset, {
        ...(flags.modalities !== undefined ? { modalities: flags.modalities } : {}),
        ...(flags.latents !== undefined ? { latents: flags.latents } : {}),
        ...(flags.exogenous !== undefined ? { exogenous: flags.exogenous } : {}),
        ...(flags.dims !== undefined ? { dims: flags.dims } : {}),
        ...(flags.n !== undefined ? { n: flags.n } : {}),
        ...(flags.sparsity !== undefined ? { sparsity: flags.sparsity } : {}),
        ...(flags.interEdges !== undefined ? { interEdges: flags.interEdges } : {}),
        ...(flags.coverage !== undefined ? { coverage: flags.coverage } : {}),
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
        seed: spec.seed,
        seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      });
    });

  data
    .command('presets')
    .description('list the synthetic dataset presets')
    .action(() => {
      printJson(
        Object.entries(PRESETS).map(([name, p]) => ({
          name,
          description: p.description,
          modalities: p.modalities,
          latents: p.latents,
          exogenous: p.exogenous,
          dims: p.dims,
          ...(p.sparsity !== undefined ? { sparsity: p.sparsity } : {}),
          ...(p.interEdges !== undefined ? { inter_edges: p.interEdges } : {}),
        })),
      );
    });

  data
    .command('check <dir>')
    .description('validate a dataset directory (manifest, every modality file, truth) and summarise it')
    .action((dir: string) => {
      const loaded = loadDataset(dir);
      const truth = loadTruth(dir, loaded.manifest);
      printJson({
        dir,
        name: loaded.manifest.name,
        n: loaded.manifest.n,
        modalities: loaded.modalities.map((m) => ({
          name: m.manifest.name,
          kind: m.manifest.kind,
          rows: m.observations.nRows,
          dims: m.observations.columns.length,
        })),
        truth: truth
          ? { latents: truth.latents.columns.length, graph_edges: truth.graph.edges.length }
          : null,
      });
    });
}
