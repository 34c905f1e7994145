/**
 * The designed causal model of the phenotype cohort: latent factors per modality plus phenotype
 * variables that belong to no modality (what `crl analyze` joins with a run's latents), tied by a
 * structural equation model in the spirit of the paper's Figure 6:
 *
 *   age -> bmi                          age -> z4_1 metabolic, bmi -> z4_1 metabolic
 *   bmi -> z3_1 apnea severity          sex -> z3_1, age -> z3_1
 *   z3_1 apnea -> z3_2 fragmentation    age -> z3_2
 *   z4_1 metabolic -> z4_2 inflammation z3_1 apnea -> z4_2 (intermittent hypoxia is inflammatory)
 *   age -> z1_1, age -> z2_1            (retinal vessel density thins with age, both eyes)
 *   z4_1, z4_2 -> z1_2 and z2_2         (vessel calibre widens with metabolic and inflammatory load)
 *   sex -> z1_3, sex -> z2_3            (optic-disc size)
 *   age, sex, z1_1 -> grip_left         (the right eye's vessel density and the left hand's grip)
 *   age, sex -> grip_right
 *
 * The two eyes share no latent edge: their factors correlate only through common causes (age,
 * sex, the blood-test latents), as in a real cohort where the eyes do not cause each other. The
 * sleep latents drive the observed SpO2 dips, heart rate and movement inside the sleep modality
 * (sleep.ts), which is the paper's "Sleep 1 -> oxygen saturation" finding made explicit.
 *
 * Latents are standardised over the cohort (mean 0, variance 1) right after they are drawn and
 * before their children use them, so effect sizes below are per standard deviation. Phenotypes
 * stay in natural units (years, 0 female / 1 male, kg/m^2, kg).
 *
 * `truth/graph.json` is this DAG restricted to the latents; `truth/analysis-graph.json` is all of
 * it. Age and sex are therefore observed common causes the latent graph alone does not show.
 */
import type { Edge, Graph } from '../../../common/graph.js';
import type { Rng } from '../../../common/random.js';
import { standardise } from '../synthetic/mechanisms.js';

export const MODALITIES = ['fundus_right', 'fundus_left', 'sleep', 'blood_tests'] as const;
export type PhenotypeModality = (typeof MODALITIES)[number];

export interface LatentInfo {
  /** `z<m>_<i>`, m 1-based in manifest (MODALITIES) order. */
  name: string;
  modality: PhenotypeModality;
  /** What the factor means, for the manifest and the report. */
  label: string;
}

export const LATENTS: readonly LatentInfo[] = [
  { name: 'z1_1', modality: 'fundus_right', label: 'vessel_density' },
  { name: 'z1_2', modality: 'fundus_right', label: 'vessel_calibre' },
  { name: 'z1_3', modality: 'fundus_right', label: 'optic_disc_size' },
  { name: 'z2_1', modality: 'fundus_left', label: 'vessel_density' },
  { name: 'z2_2', modality: 'fundus_left', label: 'vessel_calibre' },
  { name: 'z2_3', modality: 'fundus_left', label: 'optic_disc_size' },
  { name: 'z3_1', modality: 'sleep', label: 'apnea_severity' },
  { name: 'z3_2', modality: 'sleep', label: 'sleep_fragmentation' },
  { name: 'z4_1', modality: 'blood_tests', label: 'metabolic_load' },
  { name: 'z4_2', modality: 'blood_tests', label: 'inflammation' },
];

/** Columns of phenotypes.csv after the ID column. */
export const PHENOTYPES = ['age', 'sex', 'bmi', 'grip_left', 'grip_right'] as const;

export function latentsOf(modality: PhenotypeModality): string[] {
  return LATENTS.filter((l) => l.modality === modality).map((l) => l.name);
}

/** Parent values in `parents` order, and one draw from the node's own stream. */
type Mechanism = (pa: readonly number[], rng: Rng) => number;

interface NodeDesign {
  name: string;
  parents: readonly string[];
  f: Mechanism;
  /** Latents are standardised; phenotypes keep their units. */
  latent: boolean;
}

// Standardising constants for phenotypes used as causes: age is uniform on [40, 70).
const AGE_MEAN = 55;
const AGE_SD = 30 / Math.sqrt(12);
const BMI_MEDIAN = 26;
const LOG_BMI_SD = 0.16;
const zAge = (age: number): number => (age - AGE_MEAN) / AGE_SD;
const zBmi = (bmi: number): number => (Math.log(bmi) - Math.log(BMI_MEDIAN)) / LOG_BMI_SD;
const zSex = (sex: number): number => 2 * sex - 1;
const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));

function grip(age: number, sex: number, eye: number, rng: Rng): number {
  // Grip strength (kg): men about 13 kg stronger, a loss of 0.35 kg a year; floored because a
  // dynamometer reads no less than a few kilograms.
  return Math.max(4, 23 + 13 * sex - 0.35 * (age - AGE_MEAN) + eye + 3.5 * rng.normal());
}

/** In topological order: every node's parents come before it. */
export const DESIGN: readonly NodeDesign[] = [
  { name: 'age', parents: [], latent: false, f: (_, rng) => 40 + 30 * rng.uniform() },
  { name: 'sex', parents: [], latent: false, f: (_, rng) => (rng.uniform() < 0.48 ? 1 : 0) },
  {
    name: 'bmi',
    parents: ['age'],
    latent: false,
    // Log-normal: BMI is right-skewed, and the skew carries into the apnea mechanism below.
    f: ([age], rng) =>
      Math.exp(Math.log(BMI_MEDIAN) + 0.005 * ((age as number) - AGE_MEAN) + 0.15 * rng.normal()),
  },
  {
    name: 'z4_1',
    parents: ['age', 'bmi'],
    latent: true,
    f: ([age, bmi], rng) => 0.25 * zAge(age as number) + 0.7 * zBmi(bmi as number) + 0.6 * rng.normal(),
  },
  {
    name: 'z3_1',
    parents: ['age', 'sex', 'bmi'],
    latent: true,
    // Softplus: most people have little apnea and a tail has a lot, as in an AHI distribution.
    f: ([age, sex, bmi], rng) =>
      softplus(
        0.25 * zAge(age as number) +
          0.35 * zSex(sex as number) +
          0.7 * zBmi(bmi as number) +
          0.6 * rng.normal(),
      ),
  },
  {
    name: 'z3_2',
    parents: ['age', 'z3_1'],
    latent: true,
    f: ([age, apnea], rng) =>
      0.3 * zAge(age as number) + 0.7 * Math.tanh(apnea as number) + 0.6 * rng.normal(),
  },
  {
    name: 'z4_2',
    parents: ['z3_1', 'z4_1'],
    latent: true,
    f: ([apnea, metabolic], rng) =>
      0.35 * (apnea as number) + 0.5 * (metabolic as number) + 0.7 * rng.normal(),
  },
  {
    name: 'z1_1',
    parents: ['age'],
    latent: true,
    f: ([age], rng) => -0.75 * zAge(age as number) + 0.6 * rng.normal(),
  },
  {
    name: 'z2_1',
    parents: ['age'],
    latent: true,
    f: ([age], rng) => -0.75 * zAge(age as number) + 0.6 * rng.normal(),
  },
  {
    name: 'z1_2',
    parents: ['z4_1', 'z4_2'],
    latent: true,
    f: ([metabolic, inflammation], rng) =>
      0.5 * Math.tanh(metabolic as number) + 0.3 * (inflammation as number) + 0.7 * rng.normal(),
  },
  {
    name: 'z2_2',
    parents: ['z4_1', 'z4_2'],
    latent: true,
    f: ([metabolic, inflammation], rng) =>
      0.5 * Math.tanh(metabolic as number) + 0.3 * (inflammation as number) + 0.7 * rng.normal(),
  },
  {
    name: 'z1_3',
    parents: ['sex'],
    latent: true,
    f: ([sex], rng) => 0.4 * zSex(sex as number) + 0.9 * rng.normal(),
  },
  {
    name: 'z2_3',
    parents: ['sex'],
    latent: true,
    f: ([sex], rng) => 0.4 * zSex(sex as number) + 0.9 * rng.normal(),
  },
  {
    name: 'grip_left',
    parents: ['age', 'sex', 'z1_1'],
    latent: false,
    f: ([age, sex, density], rng) => grip(age as number, sex as number, 3 * (density as number), rng),
  },
  {
    name: 'grip_right',
    parents: ['age', 'sex'],
    latent: false,
    f: ([age, sex], rng) => grip(age as number, sex as number, 0, rng),
  },
];

/** Every designed edge as [cause, effect] names. */
export function designedEdges(): [string, string][] {
  return DESIGN.flatMap((node) => node.parents.map((p) => [p, node.name] as [string, string]));
}

/** One value per participant of every designed variable, keyed by name. */
export type CohortVariables = ReadonlyMap<string, Float64Array>;

/**
 * Draws every variable for n participants, node by node, so each latent can be standardised over
 * the cohort before its children read it. Memory is n doubles per variable (15 of them).
 */
export function sampleCohortVariables(n: number, rng: Rng): CohortVariables {
  const values = new Map<string, Float64Array>();
  for (const node of DESIGN) {
    const parents = node.parents.map((p) => values.get(p) as Float64Array);
    const pa = new Array<number>(parents.length).fill(0);
    const out = new Float64Array(n);
    const own = rng.fork(node.name);
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < parents.length; k++) pa[k] = (parents[k] as Float64Array)[r] as number;
      out[r] = node.f(pa, own);
    }
    if (node.latent) standardise(out);
    values.set(node.name, out);
  }
  return values;
}

function graphOver(nodes: readonly string[], meta?: Record<string, unknown>): Graph {
  const index = new Map(nodes.map((name, i) => [name, i]));
  const edges: Edge[] = [];
  for (const [a, b] of designedEdges()) {
    const i = index.get(a);
    const j = index.get(b);
    if (i !== undefined && j !== undefined) edges.push([i, j, '-->']);
  }
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  return meta === undefined ? { nodes, edges } : { nodes, edges, meta };
}

/** The designed DAG restricted to the latents, nodes in latents.csv order. */
export function latentGraph(): Graph {
  return graphOver(
    LATENTS.map((l) => l.name),
    {
      note: 'designed DAG restricted to the latents; age and sex are observed common causes of several latents, see analysis-graph.json',
    },
  );
}

/** The whole designed DAG: latents (latents.csv order), then phenotypes (phenotypes.csv order). */
export function analysisGraph(): Graph {
  return graphOver([...LATENTS.map((l) => l.name), ...PHENOTYPES]);
}
