/**
 * Background knowledge for PC: forbidden and required directed edges, and tiers (a temporal or
 * modality order: no edge points from a later tier to an earlier one). Validated against the data's
 * variable names when built, so a typo or a contradiction is an error naming the culprit rather
 * than a silently ignored rule.
 *
 * JSON form (names, or globs with * and ? matching several variables):
 *
 *   {
 *     "forbidden": [["bmi", "age"], ["*", "sex"]],      // bmi -> age and anything -> sex
 *     "required":  [["age", "z1_1"]],                   // age -> z1_1 (kept in the skeleton too)
 *     "tiers": [["age", "sex"], ["z1_*"], {"nodes": ["z2_*"], "forbiddenWithin": false}]
 *   }
 *
 * Semantics (causal-learn's `BackgroundKnowledge`, one difference): i -> j is forbidden when listed,
 * or when tier(i) > tier(j). causal-learn also forbids edges within a tier (`>=`); here that is
 * opt-in per tier with `"forbiddenWithin": true`, because within-modality edges are the point of
 * a modality order. A pair forbidden both ways cannot be adjacent.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../common/errors.js';

export interface TierSpec {
  nodes: string[];
  /** Forbid edges between two members of this tier (causal-learn's tier semantics). */
  forbiddenWithin?: boolean;
}

export interface BackgroundSpec {
  forbidden?: [string, string][];
  required?: [string, string][];
  tiers?: (string[] | TierSpec)[];
}

export class Background {
  readonly names: readonly string[];
  private readonly forbidden: Uint8Array;
  private readonly required: Uint8Array;
  /** Tier index per node, -1 when in no tier. */
  readonly tierOf: Int32Array;

  /** Use `Background.fromSpec`, `parseBackground` or `readBackground`, which validate. */
  constructor(names: readonly string[], forbidden: Uint8Array, required: Uint8Array, tierOf: Int32Array) {
    this.names = names;
    this.forbidden = forbidden;
    this.required = required;
    this.tierOf = tierOf;
  }

  get n(): number {
    return this.names.length;
  }

  /** True when i --> j is forbidden (listed, or against the tier order). */
  isForbidden(i: number, j: number): boolean {
    return this.forbidden[i * this.n + j] === 1;
  }

  /** True when i --> j is required. */
  isRequired(i: number, j: number): boolean {
    return this.required[i * this.n + j] === 1;
  }

  /** True when i and j may not be adjacent at all (both directions forbidden). */
  isBanned(i: number, j: number): boolean {
    return this.isForbidden(i, j) && this.isForbidden(j, i);
  }

  /** True when i and j must be adjacent (an edge between them is required). */
  isRequiredAdjacency(i: number, j: number): boolean {
    return this.isRequired(i, j) || this.isRequired(j, i);
  }

  /** Required edges as [from, to] pairs, ascending. */
  requiredEdges(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.n; i++)
      for (let j = 0; j < this.n; j++) if (this.isRequired(i, j)) out.push([i, j]);
    return out;
  }

  /**
   * Builds and validates background knowledge over `names`. `file` only labels errors. Throws
   * INVALID_ARGUMENT for unknown variables, patterns matching nothing, a variable in two tiers,
   * and contradictions (an edge both required and forbidden, required both ways, or required
   * edges forming a directed cycle).
   */
  static fromSpec(spec: BackgroundSpec, names: readonly string[], file = '<background>'): Background {
    return parseBackground(spec, names, file);
  }
}

/** Reads and validates a background-knowledge JSON file against the data's variable names. */
export function readBackground(path: string, names: readonly string[]): Background {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalidArgument(`cannot read background knowledge: ${(err as Error).message}`, { file: path }, err);
  }
  return parseBackground(raw, names, path);
}

/** Validates parsed JSON as background knowledge over `names`; see `Background.fromSpec`. */
export function parseBackground(raw: unknown, names: readonly string[], file = '<background>'): Background {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidArgument(
      'background knowledge must be a JSON object with "forbidden", "required", "tiers"',
      {
        file,
      },
    );
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'forbidden' && key !== 'required' && key !== 'tiers') {
      throw invalidArgument(`unknown field ${JSON.stringify(key)} (expected forbidden, required, tiers)`, {
        file,
        field: key,
      });
    }
  }
  const n = names.length;
  const index = new Map(names.map((name, i) => [name, i] as const));
  const resolve = (pattern: unknown, field: string): number[] => {
    if (typeof pattern !== 'string' || pattern === '') {
      throw invalidArgument('a variable must be a non-empty string', { file, field });
    }
    if (!/[*?]/.test(pattern)) {
      const i = index.get(pattern);
      if (i === undefined)
        throw invalidArgument(`unknown variable ${JSON.stringify(pattern)}${known(names)}`, { file, field });
      return [i];
    }
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    const hits = names.flatMap((name, i) => (re.test(name) ? [i] : []));
    if (hits.length === 0)
      throw invalidArgument(`pattern ${JSON.stringify(pattern)} matches no variable${known(names)}`, {
        file,
        field,
      });
    return hits;
  };

  const forbidden = new Uint8Array(n * n);
  const required = new Uint8Array(n * n);
  const explicitForbidden = new Uint8Array(n * n);
  const readPairs = (key: 'forbidden' | 'required', target: Uint8Array): void => {
    const list = obj[key];
    if (list === undefined) return;
    if (!Array.isArray(list))
      throw invalidArgument(`"${key}" must be an array of [from, to] pairs`, { file, field: key });
    list.forEach((pair, k) => {
      const field = `${key}[${k}]`;
      if (!Array.isArray(pair) || pair.length !== 2)
        throw invalidArgument('an edge is [from, to]', { file, field });
      const from = resolve(pair[0], `${field}[0]`);
      const to = resolve(pair[1], `${field}[1]`);
      if (from.length === 1 && to.length === 1 && from[0] === to[0]) {
        throw invalidArgument(`self-loop ${JSON.stringify(pair[0])} -> ${JSON.stringify(pair[1])}`, {
          file,
          field,
        });
      }
      for (const a of from) for (const b of to) if (a !== b) target[a * n + b] = 1;
    });
  };
  readPairs('forbidden', explicitForbidden);
  readPairs('required', required);
  forbidden.set(explicitForbidden);

  const tierOf = new Int32Array(n).fill(-1);
  const tiers = obj['tiers'];
  if (tiers !== undefined) {
    if (!Array.isArray(tiers))
      throw invalidArgument('"tiers" must be an array of tiers', { file, field: 'tiers' });
    const within: boolean[] = [];
    tiers.forEach((tier, t) => {
      const field = `tiers[${t}]`;
      let members: unknown;
      let forbidWithin = false;
      if (Array.isArray(tier)) members = tier;
      else if (typeof tier === 'object' && tier !== null) {
        const spec = tier as Record<string, unknown>;
        for (const key of Object.keys(spec)) {
          if (key !== 'nodes' && key !== 'forbiddenWithin') {
            throw invalidArgument(`unknown field ${JSON.stringify(key)} (expected nodes, forbiddenWithin)`, {
              file,
              field,
            });
          }
        }
        members = spec['nodes'];
        if (spec['forbiddenWithin'] !== undefined && typeof spec['forbiddenWithin'] !== 'boolean') {
          throw invalidArgument('"forbiddenWithin" must be true or false', {
            file,
            field: `${field}.forbiddenWithin`,
          });
        }
        forbidWithin = spec['forbiddenWithin'] === true;
      }
      if (!Array.isArray(members)) {
        throw invalidArgument(
          'a tier is an array of variables or {"nodes": [...], "forbiddenWithin": bool}',
          { file, field },
        );
      }
      within.push(forbidWithin);
      members.forEach((m, k) => {
        for (const i of resolve(m, `${field}[${k}]`)) {
          const prev = tierOf[i] as number;
          if (prev !== -1 && prev !== t) {
            throw invalidArgument(`variable ${JSON.stringify(names[i])} is in tiers ${prev} and ${t}`, {
              file,
              field,
            });
          }
          tierOf[i] = t;
        }
      });
    });
    for (let i = 0; i < n; i++) {
      const ti = tierOf[i] as number;
      if (ti < 0) continue;
      for (let j = 0; j < n; j++) {
        const tj = tierOf[j] as number;
        if (i === j || tj < 0) continue;
        if (ti > tj || (ti === tj && within[ti])) forbidden[i * n + j] = 1;
      }
    }
  }

  // Contradictions, each named so the user can fix the file.
  const name = (i: number): string => JSON.stringify(names[i]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (!required[i * n + j]) continue;
      if (forbidden[i * n + j]) {
        const why = explicitForbidden[i * n + j]
          ? 'also listed as forbidden'
          : `forbidden by the tiers (${name(i)} is in tier ${tierOf[i]}, ${name(j)} in tier ${tierOf[j]})`;
        throw invalidArgument(`contradiction: ${name(i)} -> ${name(j)} is required but ${why}`, {
          file,
          field: 'required',
        });
      }
      if (required[j * n + i]) {
        throw invalidArgument(
          `contradiction: both ${name(i)} -> ${name(j)} and ${name(j)} -> ${name(i)} are required`,
          {
            file,
            field: 'required',
          },
        );
      }
    }
  }
  const cycle = findCycle(n, required);
  if (cycle) {
    throw invalidArgument(
      `contradiction: the required edges form a directed cycle ${cycle.map(name).join(' -> ')}`,
      {
        file,
        field: 'required',
      },
    );
  }
  return new Background(names, forbidden, required, tierOf);
}

/** A directed cycle among the edges of `adj` (n x n 0/1), as a node list closing on its start. */
function findCycle(n: number, adj: Uint8Array): number[] | undefined {
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const stack: number[] = [];
  const visit = (v: number): number[] | undefined => {
    state[v] = 1;
    stack.push(v);
    for (let w = 0; w < n; w++) {
      if (!adj[v * n + w]) continue;
      if (state[w] === 1) return [...stack.slice(stack.indexOf(w)), w];
      if (state[w] === 0) {
        const c = visit(w);
        if (c) return c;
      }
    }
    stack.pop();
    state[v] = 2;
    return undefined;
  };
  for (let v = 0; v < n; v++) {
    if (state[v] === 0) {
      const c = visit(v);
      if (c) return c;
    }
  }
  return undefined;
}

function known(names: readonly string[]): string {
  const shown = names
    .slice(0, 12)
    .map((s) => JSON.stringify(s))
    .join(', ');
  return ` (variables: ${shown}${names.length > 12 ? `, ... ${names.length - 12} more` : ''})`;
}
