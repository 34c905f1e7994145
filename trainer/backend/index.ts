/**
 * TensorFlow.js backend selection. The best backend present wins, in this order:
 *
 * 1. `tensorflow` from `@tensorflow/tfjs-node-gpu`, then from `@tensorflow/tfjs-node` (optional
 *    packages: their install downloads libtensorflow, so they are absent on most machines and are
 *    loaded with a dynamic `import()` whose failure is caught);
 * 2. `webgpu` from `@tensorflow/tfjs-backend-webgpu` on the npm package `webgpu` (Dawn), only when
 *    a GPU adapter is found (optional as well);
 * 3. `wasm` (`@tensorflow/tfjs-backend-wasm`, SIMD; its .wasm files load from node_modules);
 * 4. `cpu` (pure JavaScript, always present).
 *
 * `--backend NAME` forces one; a forced backend that cannot start is an error, not a fallback.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { CrlError, invalidArgument } from '../../common/errors.js';
import { registerAllGradients } from './gradients.js';

export { registerAllGradients } from './gradients.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** The tfjs backend name in use: tensorflow, webgpu, wasm or cpu. */
  name: string;
  /** Where it came from (package), for result files. */
  source: string;
  /** Backends tried before this one and why they were passed over. */
  skipped: { name: string; reason: string }[];
}

let current: BackendInfo | undefined;

/** Loads a module by a name TypeScript does not resolve (optional dependencies). */
async function optionalImport(name: string): Promise<unknown> {
  return import(name);
}

async function tryTensorflow(): Promise<string> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await optionalImport(pkg);
      if (tf.findBackend('tensorflow') !== null && (await tf.setBackend('tensorflow'))) return pkg;
      errors.push(`${pkg} loaded but did not register the tensorflow backend`);
    } catch (err) {
      errors.push(`${pkg}: ${firstLine(err)}`);
    }
  }
  throw new Error(errors.join('; '));
}

async function tryWebgpu(): Promise<string> {
  const g = globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } };
  if (g.navigator?.gpu === undefined) {
    const dawn = (await optionalImport('webgpu')) as {
      create(flags: string[]): unknown;
      globals: Record<string, unknown>;
    };
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu: dawn.create(['backend=vulkan']) },
      configurable: true,
      writable: true,
    });
  }
  const adapter = await g.navigator?.gpu?.requestAdapter();
  if (adapter === null || adapter === undefined) throw new Error('no WebGPU adapter found');
  await optionalImport('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend failed to initialise');
  return '@tensorflow/tfjs-backend-webgpu';
}

async function tryWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  // The package ships its .wasm files next to its Node entry point.
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  return '@tensorflow/tfjs-backend-wasm';
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
  // Its one-time "install tfjs-node" banner goes to stderr and would break JSON-lines progress.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return '@tensorflow/tfjs-backend-cpu';
}

const LOADERS: Record<Exclude<BackendChoice, 'auto'>, () => Promise<string>> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebgpu,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Selects and initialises a backend (once per process: a second call with the same choice returns
 * the first answer; a different explicit choice switches).
 *
 * @throws CrlError (INVALID_ARGUMENT, field `--backend`) for an unknown name, or a forced backend
 *   that is not available here
 */
export async function selectBackend(choice: string = 'auto'): Promise<BackendInfo> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw invalidArgument(`unknown backend "${choice}"; choose one of ${BACKEND_CHOICES.join(', ')}`, {
      field: '--backend',
    });
  }
  await registerAllGradients();
  if (current !== undefined && (choice === 'auto' || choice === current.name)) return current;
  const skipped: { name: string; reason: string }[] = [];
  const order =
    choice === 'auto'
      ? (['tensorflow', 'webgpu', 'wasm', 'cpu'] as const)
      : ([choice] as readonly Exclude<BackendChoice, 'auto'>[]);
  for (const name of order) {
    try {
      const source = await LOADERS[name]();
      current = { name: tf.getBackend(), source, skipped };
      return current;
    } catch (err) {
      skipped.push({ name, reason: firstLine(err) });
    }
  }
  if (choice !== 'auto') {
    throw invalidArgument(
      `backend "${choice}" is not available here: ${skipped[0]?.reason ?? 'unknown reason'}`,
      {
        field: '--backend',
      },
    );
  }
  throw new CrlError('INTERNAL', `no TensorFlow.js backend could start: ${JSON.stringify(skipped)}`);
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
