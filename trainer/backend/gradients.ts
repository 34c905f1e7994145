/**
 * Gradient registration. `@tensorflow/tfjs-core`'s Node entry point (a CommonJS bundle) ships no
 * gradient functions: the full `@tensorflow/tfjs` package registers them from tfjs-core's ES-module
 * build (`dist/register_all_gradients.js`). That build uses extension-less relative imports, which
 * Node's ES-module loader rejects, so a small resolve hook, limited to files inside tfjs-core's
 * `dist/`, appends `.js` (or `/index.js`). tfjs keeps its engine and registries on `globalThis`, so
 * gradients registered by the ES-module copy serve the CommonJS engine the backends use.
 */
import { register } from 'node:module';

const HOOK = `
export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (!specifier.startsWith('.') || !parent.includes('/@tensorflow/tfjs-core/dist/') || specifier.endsWith('.js')) {
    return next(specifier, context);
  }
  try {
    return await next(specifier + '.js', context);
  } catch {
    return next(specifier + '/index.js', context);
  }
}
`;

let registered: Promise<void> | undefined;

/** Loads a module by a name TypeScript does not resolve. */
async function importByName(name: string): Promise<unknown> {
  return import(name);
}

/** Registers every tfjs-core gradient (once per process). */
export function registerAllGradients(): Promise<void> {
  registered ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    await importByName('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return registered;
}
