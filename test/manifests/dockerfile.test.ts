/**
 * The Dockerfile, checked as text: no Docker engine or registry is reachable where these tests run,
 * so `docker build` cannot be exercised here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Manifest, findOne, loadManifests, repoFile } from './manifest-loader.js';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions with line continuations joined and comments dropped. */
function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match) instructions.push({ keyword: (match[1] as string).toUpperCase(), args: match[2] as string });
  }
  return instructions;
}

/** Stages, with ARG defaults declared before the first FROM substituted into FROM images. */
function parseStages(instructions: Instruction[]): Stage[] {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      const resolved = (image ?? '').replace(/\$\{?(\w+)\}?/g, (_m, arg: string) => globalArgs.get(arg) ?? '');
      stages.push({ image: resolved, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [key, value] = instruction.args.split('=');
      if (key && value !== undefined) globalArgs.set(key, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

function copiesFrom(stage: Stage, source: string): Instruction[] {
  return stage.instructions.filter(
    (i) => i.keyword === 'COPY' && new RegExp(`--from=${source}(\\s|$)`).test(i.args),
  );
}

const stages = parseStages(parseInstructions(readFileSync(repoFile('Dockerfile'), 'utf8')));
const runtime = stages.at(-1) as Stage;
const last = (keyword: string): Instruction | undefined =>
  runtime.instructions.filter((i) => i.keyword === keyword).at(-1);

describe('Dockerfile', () => {
  it('is multi-stage, with named build stages', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    for (const stage of stages.slice(0, -1)) expect(stage.name, stage.image).toBeDefined();
  });

  it('builds dist/ in a stage with the full dependency set', () => {
    const build = stages.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
    expect(build).toBeDefined();
    expect(runs(build as Stage).some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(copiesFrom(runtime, build?.name as string).map((i) => i.args).join('\n')).toMatch(/\/dist\b/);
  });

  it('ships production dependencies only: node_modules comes from an `npm ci --omit=dev` stage', () => {
    const nodeModulesCopies = runtime.instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('node_modules'));
    expect(nodeModulesCopies).toHaveLength(1);
    const source = /--from=(\S+)/.exec(nodeModulesCopies[0]?.args ?? '')?.[1];
    const sourceStage = stages.find((s) => s.name === source);
    expect(sourceStage, `stage ${String(source)}`).toBeDefined();
    const install = runs(sourceStage as Stage).find((r) => /\bnpm ci\b/.test(r));
    expect(install).toContain('--omit=dev');
    // No install scripts: nothing compiles or downloads at install time.
    expect(install).toContain('--ignore-scripts');
  });

  it('runs on a distroless Node image: no shell, so no RUN in the final stage', () => {
    expect(runtime.image).toMatch(/^gcr\.io\/distroless\/nodejs\d+/);
    expect(runs(runtime)).toEqual([]);
  });

  it('builds and runs on the same Node major, one the package supports', () => {
    const runtimeMajor = Number(/nodejs(\d+)/.exec(runtime.image)?.[1]);
    for (const stage of stages.slice(0, -1)) {
      expect(Number(/^node:(\d+)/.exec(stage.image)?.[1]), stage.image).toBe(runtimeMajor);
    }
    const engines = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as Manifest).engines.node as string;
    expect(runtimeMajor).toBeGreaterThanOrEqual(Number(/(\d+)/.exec(engines)?.[1]));
  });

  it('copies package.json ("type": "module") and schemas/ into the image', () => {
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.some((c) => /^package\.json\s/.test(c))).toBe(true);
    expect(copies.some((c) => /^schemas\s/.test(c))).toBe(true);
  });

  it('runs as the non-root uid the Deployment expects', () => {
    const user = last('USER')?.args ?? '';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const deployment = findOne(loadManifests(), 'Deployment', 'backend-webhook');
    const uid = deployment.spec.template.spec.securityContext.runAsUser as number;
    expect(user === 'nonroot' || user.split(':')[0] === String(uid)).toBe(true);
  });

  it('exposes the ports the Deployment declares', () => {
    const exposed = (last('EXPOSE')?.args ?? '').split(/\s+/).map(Number);
    const deployment = findOne(loadManifests(), 'Deployment', 'backend-webhook');
    const ports = (deployment.spec.template.spec.containers[0].ports as Manifest[]).map((p) => p.containerPort as number);
    expect(exposed.sort()).toEqual(ports.sort());
  });

  it('starts dist/main.js with `serve` as the overridable default command', () => {
    const entrypoint = JSON.parse(last('ENTRYPOINT')?.args ?? 'null') as string[];
    expect(Array.isArray(entrypoint)).toBe(true);
    expect(entrypoint.at(-1)).toMatch(/(^|\/)dist\/main\.js$/);
    expect(JSON.parse(last('CMD')?.args ?? 'null')).toEqual(['serve']);
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(repoFile('.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps local builds, secrets and development files out of the context', () => {
    for (const entry of ['node_modules', 'dist', 'certs', '.git', 'test', 'bench', 'docs']) {
      expect(ignored).toContain(entry);
    }
  });

  it('keeps what the build needs', () => {
    for (const needed of ['src', 'schemas', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(ignored).not.toContain(needed);
    }
    expect(ignored.filter((l) => /^\*(\.json)?$/.test(l))).toEqual([]);
  });
});
