/**
 * Base of every conditional-independence test. A query X _||_ Y | S is canonicalised (x < y, S
 * sorted and deduplicated) before it reaches the cache, so the PC algorithm, which asks the same
 * question from both endpoints and again while orienting colliders, never pays for a test twice.
 * Subclasses implement only `pValue` on canonical queries.
 */
import { CrlError } from '../../common/errors.js';

/** Why a CI test refused to answer: the data cannot support the query. */
export type CiFailure =
  'SINGULAR' | 'TOO_FEW_ROWS' | 'CONSTANT_COLUMN' | 'DUPLICATE_COLUMN' | 'NOT_A_NUMBER' | 'BAD_QUERY';

/**
 * A CI test that cannot give a p-value. `reason` is what callers branch on; `x`, `y`, `s` name the
 * query (column indices) when one query is at fault, `variables` the column names involved.
 */
export class CiTestError extends CrlError {
  readonly reason: CiFailure;
  readonly x: number | undefined;
  readonly y: number | undefined;
  readonly s: readonly number[] | undefined;
  readonly variables: readonly string[];

  constructor(
    reason: CiFailure,
    message: string,
    detail: { x?: number; y?: number; s?: readonly number[]; variables?: readonly string[] } = {},
  ) {
    super('INVALID_ARGUMENT', message);
    this.reason = reason;
    this.x = detail.x;
    this.y = detail.y;
    this.s = detail.s;
    this.variables = detail.variables ?? [];
  }
}

export abstract class CiTest {
  /** Column names, used in error messages and by callers that report results. */
  readonly names: readonly string[];
  /** One cache per conditioning-set size, keyed by a mixed-radix number when it fits in 53 bits. */
  private readonly cache: Map<number | string, number>[] = [];
  private computed = 0;

  protected constructor(names: readonly string[]) {
    this.names = names;
  }

  get nVars(): number {
    return this.names.length;
  }

  /** Number of distinct tests actually computed (cache misses). */
  get testsRun(): number {
    return this.computed;
  }

  /**
   * p-value of X _||_ Y | S. Symmetric in x and y and independent of the order of `s`; repeated
   * queries come from the cache. Throws CiTestError when the data cannot support the query.
   */
  test(x: number, y: number, s: readonly number[] = []): number {
    let a = x;
    let b = y;
    if (a > b) {
      a = y;
      b = x;
    }
    const cond = isStrictlySorted(s) ? s : Array.from(new Set(s)).sort((u, v) => u - v);
    this.check(a, b, cond);
    const key = this.key(a, b, cond);
    const cache = (this.cache[cond.length] ??= new Map());
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const p = this.pValue(a, b, cond);
    if (Number.isNaN(p)) {
      throw new CiTestError('NOT_A_NUMBER', `the CI test gave no p-value for ${this.describe(a, b, cond)}`, {
        x: a,
        y: b,
        s: cond,
        variables: this.namesOf([a, b, ...cond]),
      });
    }
    this.computed++;
    cache.set(key, p);
    return p;
  }

  /** Human-readable form of a query, e.g. `age _||_ bmi | z1_1, z1_2`. */
  describe(x: number, y: number, s: readonly number[]): string {
    const name = (i: number): string => this.names[i] ?? String(i);
    const head = `${name(x)} _||_ ${name(y)}`;
    return s.length === 0 ? head : `${head} | ${s.map(name).join(', ')}`;
  }

  protected namesOf(indices: readonly number[]): string[] {
    return indices.map((i) => this.names[i] ?? String(i));
  }

  /** p-value of a canonical query: x < y, s strictly increasing, disjoint from {x, y}. */
  protected abstract pValue(x: number, y: number, s: readonly number[]): number;

  /** Injective within one size of S: digits x, y < p and s_i + 1 <= p in base p + 1. */
  private key(x: number, y: number, s: readonly number[]): number | string {
    const base = this.names.length + 1;
    if (base ** (s.length + 2) >= Number.MAX_SAFE_INTEGER) return `${x},${y}|${s.join('.')}`;
    let k = x * base + y;
    for (const v of s) k = k * base + v + 1;
    return k;
  }

  private check(x: number, y: number, s: readonly number[]): void {
    const p = this.names.length;
    let ok = Number.isInteger(x) && Number.isInteger(y) && x >= 0 && x < y && y < p;
    for (let i = 0; ok && i < s.length; i++) {
      const v = s[i] as number;
      ok = Number.isInteger(v) && v >= 0 && v < p && v !== x && v !== y;
    }
    if (!ok) {
      throw new CiTestError(
        'BAD_QUERY',
        `invalid CI query (${x}, ${y} | ${s.join(', ')}) over ${p} variables`,
        {
          x,
          y,
          s,
        },
      );
    }
  }
}

function isStrictlySorted(s: readonly number[]): boolean {
  for (let i = 1; i < s.length; i++) if ((s[i] as number) <= (s[i - 1] as number)) return false;
  return true;
}
