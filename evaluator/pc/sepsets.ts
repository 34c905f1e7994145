/**
 * Separating sets found by the skeleton search, one per removed pair. As in causal-learn's stable
 * PC, the set stored for a pair is the union of every separating set found at the depth where the
 * pair was removed, from both endpoints; the "sepset" collider rule asks only whether the middle
 * node of a triple is in it.
 */
export class Sepsets {
  readonly n: number;
  private readonly sets = new Map<number, number[]>();

  constructor(n: number) {
    this.n = n;
  }

  /** Adds the members of `s` to the separating set of x and y (creating it, possibly empty). */
  add(x: number, y: number, s: readonly number[]): void {
    const key = this.key(x, y);
    const cur = this.sets.get(key);
    if (!cur) {
      this.sets.set(
        key,
        [...s].sort((a, b) => a - b),
      );
      return;
    }
    let changed = false;
    for (const v of s) {
      if (!cur.includes(v)) {
        cur.push(v);
        changed = true;
      }
    }
    if (changed) cur.sort((a, b) => a - b);
  }

  /** The separating set of x and y (ascending), or undefined when none was recorded. */
  get(x: number, y: number): readonly number[] | undefined {
    return this.sets.get(this.key(x, y));
  }

  /** True when v is in the recorded separating set of x and y. */
  contains(x: number, y: number, v: number): boolean {
    return this.sets.get(this.key(x, y))?.includes(v) ?? false;
  }

  /** All recorded pairs, x < y, ascending. */
  entries(): { x: number; y: number; set: readonly number[] }[] {
    return [...this.sets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([key, set]) => ({ x: Math.floor(key / this.n), y: key % this.n, set }));
  }

  private key(x: number, y: number): number {
    return x < y ? x * this.n + y : y * this.n + x;
  }
}
