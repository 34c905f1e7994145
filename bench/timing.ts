/** Shared timing for the benchmarks: one warm-up, then `runs` timed runs summarised by their median. */
export interface Timing {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
}

export function timed<T>(runs: number, fn: () => T): { timing: Timing; result: T } {
  let result = fn(); // warm-up: JIT compilation and first-touch allocation
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  return { timing: summarise(ms), result };
}

/** `timed` for asynchronous work (a step that ends with a device read). */
export async function timedAsync<T>(
  runs: number,
  fn: () => Promise<T>,
): Promise<{ timing: Timing; result: T }> {
  let result = await fn(); // warm-up: kernel compilation, JIT and first-touch allocation
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    result = await fn();
    ms.push(performance.now() - t0);
  }
  return { timing: summarise(ms), result };
}

function summarise(ms: number[]): Timing {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    median_ms: round(median),
    min_ms: round(sorted[0]!),
    max_ms: round(sorted.at(-1)!),
    runs: ms.length,
  };
}
