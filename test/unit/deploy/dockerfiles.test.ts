/**
 * The container images (deploy/docker) agree with the repository and the Helm chart, without
 * building them (that needs a registry and, for the trainer, libtensorflow from the network):
 * the entrypoint file exists and is copied, every COPY source exists and is not excluded by
 * .dockerignore, base images are pinned, the user is numeric and non-root, and every flag the
 * chart passes to `crl serve <service>` is one that `crl serve <service> --help` lists.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DOCKER = join(ROOT, 'deploy', 'docker');
const TEMPLATES = join(ROOT, 'helm', 'crl-cluster', 'templates');
const ENTRYPOINT = ['node', 'bin/crl.js', 'serve'];

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Dockerfile instructions by stage: comments dropped, `\` continuations joined, ARGs substituted. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`cannot parse Dockerfile line: ${line}`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.replace(/\$\{(\w+)\}/g, (_, v: string) => args[v] ?? `\${${v}}`);
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      if (v !== undefined) args[k!] = v;
    } else if (op === 'FROM') {
      const [from, as, name] = rest.split(/\s+/);
      stages.push({ from: from!, ...(as?.toUpperCase() === 'AS' ? { name: name! } : {}), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) throw new Error(`${op} before FROM`);
      stage.instructions.push({ op, args: rest });
    }
  }
  return stages;
}

function last(stage: Stage, op: string): string | undefined {
  return stage.instructions.filter((i) => i.op === op).at(-1)?.args;
}

/** Top-level .dockerignore patterns (the file uses no negations or mid-path globs beyond `**`). */
function ignoredByDocker(path: string): boolean {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const clean = path.replace(/\/$/, '');
  return patterns.some((p) => !p.includes('*') && (clean === p || clean.startsWith(`${p}/`)));
}

/** Flags the chart passes in a template's container args, keyed by the service (first arg). */
function chartFlags(template: string): { service: string; flags: string[] } {
  const text = readFileSync(join(TEMPLATES, template), 'utf8');
  const block = /\n(\s+)args:\n((?:\1 {2}- .*\n)+)/.exec(text);
  if (block === null) throw new Error(`no args in ${template}`);
  const items = [...block[2]!.matchAll(/- (.*)\n/g)].map((m) => m[1]!.trim());
  return { service: items[0]!, flags: items.filter((i) => i.startsWith('--')) };
}

const exec = promisify(execFile);
async function serveHelp(service: string): Promise<string> {
  const { stdout } = await exec(process.execPath, [join(ROOT, 'bin', 'crl.js'), 'serve', service, '--help'], {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return stdout;
}

const files = { service: 'Dockerfile.service', trainer: 'Dockerfile.trainer' } as const;

describe.for(Object.entries(files))('%s image (%s)', ([kind, file]) => {
  const stages = parseDockerfile(readFileSync(join(DOCKER, file), 'utf8'));
  const final = stages.at(-1)!;

  it('runs `node bin/crl.js serve` as a numeric non-root user', () => {
    expect(JSON.parse(last(final, 'ENTRYPOINT') ?? 'null')).toEqual(ENTRYPOINT);
    expect(existsSync(join(ROOT, ENTRYPOINT[1]!))).toBe(true);
    const cmd = last(final, 'CMD');
    if (cmd !== undefined) expect(JSON.parse(cmd)).toBeInstanceOf(Array);
    // Numeric uid:gid, so the kubelet can verify runAsNonRoot; and the chart's runAsUser.
    expect(last(final, 'USER')).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(last(final, 'USER')?.split(':')[0]).toBe(
      String(
        (
          parse(readFileSync(join(ROOT, 'helm', 'crl-cluster', 'values.yaml'), 'utf8')) as {
            podSecurityContext: { runAsUser: number };
          }
        ).podSecurityContext.runAsUser,
      ),
    );
    expect(last(final, 'WORKDIR')).toBe('/app');
  });

  it('copies the entrypoint and every source it names from the repository, none excluded', () => {
    const copies = stages.flatMap((s) =>
      s.instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')),
    );
    const sources = copies.flatMap((c) => c.args.split(/\s+/).slice(0, -1));
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), src).toBe(true);
      expect(ignoredByDocker(src), `${src} is excluded by .dockerignore`).toBe(false);
    }
    expect(sources).toContain('bin/');
    for (const dir of [
      'cli/',
      'common/',
      'coordinator/',
      'trainer/',
      'evaluator/',
      'proto/',
      'deploy/local/',
    ])
      expect(sources).toContain(dir);
    expect(ignoredByDocker('node_modules')).toBe(true);
  });

  it('builds on base images pinned by version tag', () => {
    for (const s of stages) {
      if (stages.some((o) => o.name === s.from)) continue;
      expect(s.from, s.from).toMatch(/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*$/);
      expect(s.from).not.toMatch(/:latest$/);
    }
  });

  it('installs production dependencies from the lockfile', () => {
    const runs = stages
      .flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args))
      .join('\n');
    expect(runs).toContain('npm ci --omit=dev');
    if (kind === 'service') {
      expect(final.from).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    } else {
      expect(runs).toContain(
        'npm install --omit=dev --no-save --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0',
      );
      // libtensorflow 2.9 (tfjs-node-gpu 4.22) needs CUDA 11.x and cuDNN 8; see the Dockerfile.
      expect(final.from).toMatch(/^nvidia\/cuda:11\.\d+\.\d+-cudnn8-runtime-/);
      expect(stages[0]?.from).toMatch(/^node:20\.\d+\.\d+-/);
    }
  });
});

describe('flags the Helm chart passes to `crl serve`', () => {
  const cases = [
    ['coordinator.yaml', 'coordinator'],
    ['trainer.yaml', 'trainer'],
    ['evaluator.yaml', 'evaluator'],
  ] as const;
  const help: Record<string, string> = {};
  beforeAll(async () => {
    const texts = await Promise.all(cases.map(([, s]) => serveHelp(s)));
    cases.forEach(([, s], i) => (help[s] = texts[i]!));
  }, 60_000);

  it.for(cases)('%s: every flag is listed by `crl serve %s --help`', ([template, service]) => {
    const { service: first, flags } = chartFlags(template);
    expect(first).toBe(service);
    expect(flags.length).toBeGreaterThanOrEqual(3);
    const listed = new Set([...help[service]!.matchAll(/(?:^|\s)(--[a-z][\w-]*)/g)].map((m) => m[1]!));
    for (const flag of flags) expect(listed, `${service} ${flag}`).toContain(flag);
    // Every service listens on all interfaces in a pod and serves metrics.
    expect(flags).toEqual(expect.arrayContaining(['--host', '--port', '--metrics-port']));
  });

  it('allows in values.schema.json exactly the trainer backends `crl serve trainer` accepts', () => {
    const m = /--backend <name>\s+tfjs backend: ([\w, ]+)/.exec(help['trainer']!);
    expect(m).not.toBeNull();
    const schema = JSON.parse(
      readFileSync(join(ROOT, 'helm', 'crl-cluster', 'values.schema.json'), 'utf8'),
    ) as {
      properties: { trainer: { properties: { backend: { enum: string[] } } } };
    };
    expect(schema.properties.trainer.properties.backend.enum).toEqual(m![1]!.split(/,\s*/));
  });
});
