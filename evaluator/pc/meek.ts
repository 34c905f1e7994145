/**
 * Meek's orientation rules, applied until nothing changes, as causal-learn's `Meek.meek` and
 * `Meek.definite_meek`. Candidates (unshielded triples, triangles, kites) are enumerated once, in
 * causal-learn's order, from the graph the rules start on (adjacencies never change here):
 *   R1: i -> j --- k, i and k not adjacent          => j -> k
 *   R2: i -> j -> k and i --- k                      => i -> k
 *   R3: i --- j -> l, i --- k -> l, i --- l, j and k not adjacent => i -> l
 *   R4: a --- b, a --- d, d -> c -> b, a ~ c, d and b not adjacent => a -> b
 * R1-R3 are complete for a CPDAG without background knowledge (Meek 1995), and are all causal-learn
 * applies; R4 is needed once background knowledge has fixed some orientations, so pc.ts turns it on
 * exactly when background knowledge is given. An orientation the background knowledge forbids
 * (or whose reverse it requires) is never made.
 */
import type { Background } from './background.js';
import type { Pdag } from './pdag.js';
import { kites, triangles, unshieldedTriples, type Triple } from './triples.js';

export interface MeekOptions {
  background?: Background | undefined;
  /** Also apply rule 4. Default false (causal-learn's rule set). */
  r4?: boolean;
}

/** Applies R1-R3 (and R4 when asked) to a fixpoint; returns a new graph. */
export function applyMeekRules(graph: Pdag, options: MeekOptions = {}): Pdag {
  const g = graph.clone();
  const bk = options.background;
  const ut = unshieldedTriples(g);
  const tri = triangles(g);
  const kite = kites(g);
  let changed = true;
  while (changed) {
    changed = false;
    for (const [i, j, k] of ut) {
      if (g.isDirected(i, j) && g.isUndirected(j, k) && allowed(bk, j, k)) {
        g.setDirected(j, k);
        changed = true;
      }
    }
    changed = rule2(g, tri, bk) || changed;
    for (const [i, j, k, l] of kite) {
      if (
        g.isUndirected(i, j) &&
        g.isUndirected(i, k) &&
        g.isDirected(j, l) &&
        g.isDirected(k, l) &&
        g.isUndirected(i, l) &&
        allowed(bk, i, l)
      ) {
        g.setDirected(i, l);
        changed = true;
      }
    }
    if (options.r4) changed = rule4(g, bk) || changed;
  }
  return g;
}

/**
 * causal-learn's `definite_meek`, run after the definite-maxp collider rule: R1 only along the
 * definite non-colliders (in either direction), R2 as usual, and R3 on kites whose two sides are a
 * definite collider and whose apex triple is a definite non-collider. `applyMeekRules` follows it.
 */
export function applyDefiniteMeekRules(
  graph: Pdag,
  definiteColliders: readonly Triple[],
  definiteNonColliders: readonly Triple[],
  options: MeekOptions = {},
): Pdag {
  const g = graph.clone();
  const bk = options.background;
  const tri = triangles(g);
  const kite = kites(g);
  const key = (t: Triple): number => (t[0] * g.n + t[1]) * g.n + t[2];
  const uc = new Set(definiteColliders.map(key));
  const nonUc = new Set(definiteNonColliders.map(key));
  let changed = true;
  while (changed) {
    changed = false;
    for (const [i, j, k] of definiteNonColliders) {
      if (g.isDirected(i, j) && g.isUndirected(j, k) && allowed(bk, j, k)) {
        g.setDirected(j, k);
        changed = true;
      } else if (g.isDirected(k, j) && g.isUndirected(j, i) && allowed(bk, j, i)) {
        g.setDirected(j, i);
        changed = true;
      }
    }
    changed = rule2(g, tri, bk) || changed;
    for (const [i, j, k, l] of kite) {
      if (
        (uc.has(key([j, l, k])) || uc.has(key([k, l, j]))) &&
        (nonUc.has(key([j, i, k])) || nonUc.has(key([k, i, j]))) &&
        g.isUndirected(i, l) &&
        allowed(bk, i, l)
      ) {
        g.setDirected(i, l);
        changed = true;
      }
    }
  }
  return g;
}

function rule2(g: Pdag, tri: readonly Triple[], bk: Background | undefined): boolean {
  let changed = false;
  for (const [i, j, k] of tri) {
    if (g.isDirected(i, j) && g.isDirected(j, k) && g.isUndirected(i, k) && allowed(bk, i, k)) {
      g.setDirected(i, k);
      changed = true;
    }
  }
  return changed;
}

function rule4(g: Pdag, bk: Background | undefined): boolean {
  let changed = false;
  for (let a = 0; a < g.n; a++) {
    for (let b = 0; b < g.n; b++) {
      if (a === b || !g.isUndirected(a, b) || !allowed(bk, a, b)) continue;
      if (rule4Applies(g, a, b)) {
        g.setDirected(a, b);
        changed = true;
      }
    }
  }
  return changed;
}

function rule4Applies(g: Pdag, a: number, b: number): boolean {
  for (const c of g.neighbors(b)) {
    if (c === a || !g.isDirected(c, b) || !g.adjacent(a, c)) continue;
    for (const d of g.neighbors(c)) {
      if (d !== a && d !== b && g.isDirected(d, c) && g.isUndirected(a, d) && !g.adjacent(d, b)) return true;
    }
  }
  return false;
}

/** May i -> j be oriented? Not if forbidden, nor if j -> i is required. */
function allowed(bk: Background | undefined, i: number, j: number): boolean {
  return bk === undefined || (!bk.isForbidden(i, j) && !bk.isRequired(j, i));
}
