/**
 * Generates a synthetic multimodal dataset with its ground truth: latent DAG, mechanisms,
 * exogenous variables, and one injective mixing per modality. Each ingredient draws from its own
 * named random stream, so the same seed gives the same graph and mixing whatever `n` is.
 */
import { fromColumns, makeTable, type Table } from '../../../common/matrix.js';
import { exogenousName, latentLayoutOf, type Graph } from '../../../common/graph.js';
import { Rng } from '../../../common/random.js';
import { edgeStrengths, identifiabilityOf, type Identifiability } from './identifiability.js';
import { drawLatentGraph } from './latent-graph.js';
import { drawMechanisms, sampleLatents } from './mechanisms.js';
import { applyMixing, drawMixing } from './mixing.js';
import type { SyntheticSpec } from './spec.js';

export interface SyntheticModality {
  name: string;
  /** n x d_m observations, columns `x<m>_<j>`. */
  observations: Table;
  /** Names of this modality's true latents and exogenous variables. */
  latentColumns: string[];
  exogenousColumns: string[];
  mixingConditionNumbers: number[];
}

export interface SyntheticDataset {
  spec: SyntheticSpec;
  graph: Graph;
  /** n x sum(k_m), columns named as the graph's nodes (`z<m>_<i>`). */
  latents: Table;
  /** n x sum(e_m), columns `eta<m>_<j>`. */
  exogenous: Table;
  /** The causal noise eps, columns `eps<m>_<i>`, with z_i = f_i(Pa(z_i)) + eps_i. */
  noise: Table;
  modalities: SyntheticModality[];
  /** Whether the drawn truth meets the paper's structural conditions, and every edge's strength. */
  identifiability: Identifiability;
}

export function generateSynthetic(spec: SyntheticSpec): SyntheticDataset {
  const root = new Rng(spec.seed);
  const graph = drawLatentGraph(
    spec.latents,
    spec.interEdges,
    spec.intraProb,
    spec.coverage,
    root.fork('graph'),
    spec.requireConditions ?? false,
  );
  const mechanisms = drawMechanisms(graph, spec, root.fork('mechanisms'));
  const { z, eps } = sampleLatents(mechanisms, spec.n, spec.noiseStd, root.fork('latent-noise'));
  const { modalityOf } = latentLayoutOf(spec.latents);

  const etaRng = root.fork('exogenous');
  const mixingRng = root.fork('mixing');
  const etaNames: string[] = [];
  const etaCols: Float64Array[] = [];
  const modalities = spec.dims.map((d, m): SyntheticModality => {
    const zIdx = modalityOf.flatMap((mm, i) => (mm === m ? [i] : []));
    const e = spec.exogenous[m] as number;
    const eta = Array.from({ length: e }, () => {
      const col = new Float64Array(spec.n);
      for (let r = 0; r < spec.n; r++) col[r] = etaRng.normal();
      return col;
    });
    const names = Array.from({ length: e }, (_, j) => exogenousName(m + 1, j + 1));
    etaNames.push(...names);
    etaCols.push(...eta);

    const inputs = [...zIdx.map((i) => z[i] as Float64Array), ...eta];
    const inDim = inputs.length;
    const packed = new Float64Array(spec.n * inDim);
    for (let r = 0; r < spec.n; r++) {
      for (let c = 0; c < inDim; c++) packed[r * inDim + c] = (inputs[c] as Float64Array)[r] as number;
    }
    const mlp = drawMixing(inDim, d, spec, mixingRng.fork(`m${m + 1}`));
    const x = applyMixing(mlp, packed, spec.n);
    const columns = Array.from({ length: d }, (_, j) => `x${m + 1}_${j + 1}`);
    return {
      name: `m${m + 1}`,
      observations: makeTable(columns, spec.n, x),
      latentColumns: zIdx.map((i) => graph.nodes[i] as string),
      exogenousColumns: names,
      mixingConditionNumbers: mlp.layers.map((l) => l.conditionNumber),
    };
  });

  return {
    spec,
    graph,
    identifiability: {
      ...identifiabilityOf(graph),
      edges: edgeStrengths(graph, mechanisms, z, spec.noiseStd, spec.seed),
    },
    latents: fromColumns(graph.nodes, z),
    exogenous: fromColumns(etaNames, etaCols),
    noise: fromColumns(
      graph.nodes.map((name) => name.replace(/^z/, 'eps')),
      eps,
    ),
    modalities,
  };
}
