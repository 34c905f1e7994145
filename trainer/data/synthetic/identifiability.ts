/**
 * Whether a truth graph meets the structural conditions of the paper's identification theory
 * (§4), so a benchmark can tell a model failure from a dataset the theory does not cover.
 *
 * - Exchangeable latents: two latents of one modality with the same parents and the same children.
 *   A rotation of the pair keeps every edge (no extra sparsity cost) and, with Gaussian causal
 *   noise, keeps the noises independent, so Condition 4.3 fails and Theorem 4.4 does not separate
 *   them: only their 2-D subspace is identified.
 * - Unlinked latents: no edge to another modality (appendix D.1 keeps every latent linked;
 *   Condition 4.1-A2 asks each modality's latents to influence the others). Without intra-modal
 *   edges such a latent is an independent source inside its modality, exchangeable with eta; with
 *   them (variant MNIST: position -> transparency) only the independence of eta from z tells them
 *   apart, which the theorem does not cover.
 * - Edge strength: the total-effect (Sobol) index of each parent in its child's mechanism,
 *   E[Var(z_child | all but the parent)] / Var(z_child). The objective prices an edge in nats
 *   (alpha_Sp / alpha_Ind = 0.1 nat at the paper's weights); an edge whose parent explains a few
 *   percent of its child is below what the sparsity penalty lets the likelihood keep.
 */
import { latentModality, parentsOf, type Graph } from '../../../common/graph.js';
import { Rng } from '../../../common/random.js';
import { evaluateMechanism, standardise, type Mechanism } from './mechanisms.js';

export interface EdgeStrength {
  from: string;
  to: string;
  /** Total-effect index of `from` in `to`'s mechanism, as a fraction of Var(to). */
  total_effect: number;
}

export interface Identifiability {
  /** Pairs of latents of one modality with identical parents and children. */
  exchangeable: [string, string][];
  /** Latents with no edge to another modality. */
  unlinked: string[];
  edges: EdgeStrength[];
  /** No exchangeable pair and no unlinked latent: the structural conditions of §4 hold. */
  conditions_met: boolean;
}

/** Structural part: exchangeable pairs and unlinked latents of a latent DAG. */
export function structuralIdentifiability(graph: Graph): Pick<Identifiability, 'exchangeable' | 'unlinked'> {
  // Modality from the node name (z<m>_<i>); a node named otherwise is its own modality.
  const modalityOf = graph.nodes.map((name, i) => latentModality(name) ?? -1 - i);
  const d = graph.nodes.length;
  const parents = parentsOf(graph);
  const children: number[][] = Array.from({ length: d }, () => []);
  parents.forEach((ps, child) => ps.forEach((p) => (children[p] as number[]).push(child)));
  const key = (i: number) =>
    `${[...(parents[i] ?? [])].sort((a, b) => a - b).join(',')}|${[...(children[i] ?? [])].sort((a, b) => a - b).join(',')}`;
  const name = (i: number) => graph.nodes[i] as string;

  const exchangeable: [string, string][] = [];
  for (let a = 0; a < d; a++) {
    for (let b = a + 1; b < d; b++) {
      if (modalityOf[a] === modalityOf[b] && key(a) === key(b)) exchangeable.push([name(a), name(b)]);
    }
  }
  const unlinked: string[] = [];
  for (let i = 0; i < d; i++) {
    const linked = [...(parents[i] ?? []), ...(children[i] ?? [])].some(
      (j) => modalityOf[j] !== modalityOf[i],
    );
    if (!linked) unlinked.push(name(i));
  }
  return { exchangeable, unlinked };
}

/** The structural check alone, for a truth whose mechanisms are not known (no edge strengths). */
export function identifiabilityOf(graph: Graph): Identifiability {
  const s = structuralIdentifiability(graph);
  return {
    ...s,
    edges: [],
    conditions_met: s.exchangeable.length === 0 && s.unlinked.length === 0,
  };
}

/** What a run reports of its truth: the conditions, the offending latents, the weakest edge. */
export interface IdentifiabilitySummary {
  conditions_met: boolean;
  exchangeable: [string, string][];
  unlinked: string[];
  weakest_edge: EdgeStrength | null;
}

export function identifiabilitySummary(id: Identifiability): IdentifiabilitySummary {
  const { conditions_met, exchangeable, unlinked } = id;
  return { conditions_met, exchangeable, unlinked, weakest_edge: weakestEdge(id.edges) ?? null };
}

/** The weakest edge by total effect (undefined without edge strengths). */
export function weakestEdge(edges: readonly EdgeStrength[]): EdgeStrength | undefined {
  return edges.reduce<EdgeStrength | undefined>(
    (w, e) => (w === undefined || e.total_effect < w.total_effect ? e : w),
    undefined,
  );
}

/**
 * Total-effect index of every edge, by Jansen's estimator on the sampled latents: the mechanism is
 * evaluated with one parent's column replaced by a shuffled copy, and half the mean squared change
 * over Var(child) is the index. `z` holds the sampled latents (unit variance), `strength` scales
 * each mechanism as in sampling.
 */
export function edgeStrengths(
  graph: Graph,
  mechanisms: readonly Mechanism[],
  z: readonly Float64Array[],
  noiseStd: number,
  seed: number,
  rows = 4000,
): EdgeStrength[] {
  const n = Math.min(rows, z[0]?.length ?? 0);
  const rng = new Rng(seed).fork('edge-strength');
  const head = z.map((col) => col.subarray(0, n));
  const out: EdgeStrength[] = [];
  mechanisms.forEach((mech, child) => {
    if (mech.parents.length === 0 || n < 2) return;
    const base = evaluateMechanism(mech, head, n);
    const { std } = standardise(Float64Array.from(base));
    // sampleLatents scales f to strength * noiseStd before adding the noise; z_child has unit
    // variance after standardising, so the scale of f in z units is strength * noiseStd / (std * sd(z raw)).
    const raw = (mech.strength * noiseStd) ** 2 + noiseStd ** 2;
    const scale = (mech.strength * noiseStd) / std / Math.sqrt(raw);
    for (const p of mech.parents) {
      const shuffled = head.map((col, j) => (j === p ? permute(col, rng) : col));
      const moved = evaluateMechanism(mech, shuffled, n);
      let sq = 0;
      for (let r = 0; r < n; r++) sq += ((base[r] as number) - (moved[r] as number)) ** 2;
      out.push({
        from: graph.nodes[p] as string,
        to: graph.nodes[child] as string,
        total_effect: Number(((scale * scale * sq) / (2 * n)).toFixed(4)),
      });
    }
  });
  return out;
}

function permute(col: Float64Array, rng: Rng): Float64Array {
  const order = rng.permutation(col.length);
  return Float64Array.from(order, (i) => col[i] as number);
}
