/**
 * Every ```console block in README.md and docs/*.md is a transcript: `$ command` lines, then the
 * exact standard output, then optionally `# exit N`. This runs each command (the built program,
 * from the repository root, through sh so pipes work) and compares, so the examples stay real
 * outputs on files in the repository.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../cli/validate-cli.js';

interface Step {
  file: string;
  command: string;
  output: string[];
  exit?: number;
}

export function transcripts(file: string, text: string): Step[] {
  const steps: Step[] = [];
  const blocks = text.split('\n```console\n').slice(1).map((rest) => rest.slice(0, rest.indexOf('\n```')));
  for (const block of blocks) {
    let step: Step | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('$ ')) {
        step = { file, command: line.slice(2), output: [] };
        steps.push(step);
      } else if (!step) {
        throw new Error(`${file}: a console block must start with a $ command line`);
      } else if (/^# exit \d+$/.test(line)) {
        step.exit = Number(line.slice('# exit '.length));
      } else {
        step.output.push(line);
      }
    }
  }
  return steps;
}

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const STEPS = DOCS.flatMap((file) => transcripts(file, readFileSync(join(ROOT, file), 'utf8')));

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

describe('documented transcripts', () => {
  it('README.md has validate examples on files in the repository', () => {
    expect(STEPS.filter((s) => s.file === 'README.md' && / validate /.test(s.command)).length).toBeGreaterThanOrEqual(3);
  });

  it.each(STEPS.map((s) => [`${s.file}: ${s.command}`, s] as const))('%s', (_name, step) => {
    expect(step.command, 'examples run the built program').toMatch(/(^|\| )node dist\/main\.js /);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BACKEND_WEBHOOK_')) env[k] = v;
    const run = spawnSync('sh', ['-c', step.command], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    expect(run.stdout.replace(/\n$/, '').split('\n'), run.stderr).toEqual(step.output);
    if (step.exit !== undefined) expect(run.status).toBe(step.exit);
  }, 150_000);
});
