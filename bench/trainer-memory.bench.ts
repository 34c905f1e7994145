/**
 * Peak memory of a trainer that owns the image modality of a large cohort (issue 7: under 2 GiB
 * for 100,000 participants). The phenotype cohort is generated (or `--data DIR` reused); then a
 * child process does what a trainer of a group does with its modality: loads only `fundus_right`
 * through the cohort loader (participant join over every modality's IDs, one streaming pass for
 * the channel statistics), trains that modality's encoder and decoder for `--steps` batches, and
 * computes its latents for every participant. The child reports its peak resident set (VmHWM) and
 * the size the modality would take held in memory as float32, for comparison. Prints one JSON
 * object.
 *
 *   npm run bench:trainer-memory [-- --n 100000 --steps 50 --batch 256 --data DIR]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { positiveInt } from './args.js';

const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    steps: { type: 'string', default: '50' },
    batch: { type: 'string', default: '256' },
    data: { type: 'string' },
    modality: { type: 'string', default: 'fundus_right' },
    child: { type: 'boolean', default: false },
  },
});

if (flags.child) {
  await child(
    flags.data as string,
    flags.modality,
    positiveInt('steps', flags.steps),
    positiveInt('batch', flags.batch),
  );
} else {
  await parent();
}

async function parent(): Promise<void> {
  const n = positiveInt('n', flags.n);
  let dir = flags.data;
  let tmp: string | undefined;
  let generateS: number | undefined;
  if (dir === undefined) {
    tmp = mkdtempSync(join(tmpdir(), 'crl-memory-'));
    dir = join(tmp, 'cohort');
    process.stderr.write(`[trainer-memory] generating the phenotype cohort, n = ${n}\n`);
    const t0 = performance.now();
    const { writePhenotypeCohort } = await import('../trainer/data/phenotype/write.js');
    await writePhenotypeCohort(dir, { n, seed: 1 });
    generateS = (performance.now() - t0) / 1000;
  }
  try {
    const args = ['bin/run-ts.js', 'bench/trainer-memory.bench.ts', '--child', '--data', dir];
    args.push('--modality', flags.modality, '--steps', flags.steps, '--batch', flags.batch);
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`the trainer process failed (exit ${r.status})`);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
    console.log(
      JSON.stringify({
        bench: 'trainer-memory',
        ...out,
        ...(generateS === undefined ? {} : { generate_s: generateS }),
      }),
    );
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}

async function child(dir: string, modality: string, steps: number, batch: number): Promise<void> {
  const { selectBackend } = await import('../trainer/backend/index.js');
  const { loadTrainingInput } = await import('../trainer/data/input.js');
  const { CrlModel, modelConfig } = await import('../trainer/model/index.js');
  const { LocalEngine } = await import('../trainer/training/local-engine.js');
  const { DEFAULT_ADAM } = await import('../trainer/training/adam.js');
  const backend = await selectBackend('wasm');
  const t0 = performance.now();
  const input = await loadTrainingInput({ data: dir, seed: 1 }, { read: [modality], truth: false });
  const loadS = (performance.now() - t0) / 1000;
  const spec = input.specs.find((s) => s.name === modality);
  if (spec === undefined) throw new Error(`no modality ${modality}`);
  const m = input.specs.indexOf(spec);
  const model = new CrlModel(modelConfig([spec]), 1);
  const engine = new LocalEngine(
    model,
    { n: input.n, blocks: input.blocks, presence: [input.presence[m]] },
    DEFAULT_ADAM,
  );
  const t1 = performance.now();
  let seed = 1;
  for (let s = 0; s < steps; s++) {
    const rows = Int32Array.from({ length: batch }, () =>
      Math.floor(((seed = (seed * 48271) % 2147483647) / 2147483647) * input.n),
    );
    const terms = await engine.step(rows, { seed: s, lr: 1e-3, spScale: 1, step: s });
    terms.dispose();
  }
  const stepMs = (performance.now() - t1) / steps;
  const t2 = performance.now();
  const latents = engine.latents();
  const latentsS = (performance.now() - t2) / 1000;
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  const heldBytes = input.n * spec.dims * 4;
  console.log(
    JSON.stringify({
      backend: backend.name,
      modality,
      participants: input.n,
      row_shape: spec.shape ?? [spec.dims],
      steps,
      batch,
      load_s: loadS,
      step_ms: stepMs,
      latents_s: latentsS,
      latents_values: latents.length,
      peak_rss_mib: kb('VmHWM') / 1024,
      in_memory_float32_mib: heldBytes / 2 ** 20,
    }),
  );
  engine.dispose();
  model.dispose();
}
