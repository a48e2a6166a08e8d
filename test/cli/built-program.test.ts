/**
 * ensureBuilt (test/support/built-program.ts) on a tiny project of its own: it builds when dist/ is
 * missing, rebuilds when a source is newer than its output, leaves a fresh build alone, and
 * parallel callers build once.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuilt, REPO } from '../support/built-program.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ensure-built-'));
  mkdirSync(join(root, 'src/lib'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  // noLib: a build of two lines in well under a second of CPU (type errors do not stop tsc emitting).
  writeFileSync(join(root, 'tsconfig.build.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', rootDir: 'src', outDir: 'dist', types: [], noLib: true }, include: ['src'] }));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(root, 'src/main.ts'), "export { answer } from './lib/answer.js';\n");
  writeFileSync(join(root, 'src/lib/answer.ts'), 'export const answer = 1;\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mtime = (rel: string): number => statSync(join(root, rel)).mtimeMs;
/** Moves a file's modification time `seconds` into the past. */
const age = (rel: string, seconds: number): void => {
  const t = new Date(Date.now() - seconds * 1000);
  utimesSync(join(root, rel), t, t);
};

it('builds a missing dist/, then leaves a fresh one alone', async () => {
  await ensureBuilt(root);
  expect(readFileSync(join(root, 'dist/lib/answer.js'), 'utf8')).toContain('answer = 1');
  age('dist/main.js', 60);
  age('dist/lib/answer.js', 60);
  age('src/main.ts', 120);
  age('src/lib/answer.ts', 120);
  const before = mtime('dist/main.js');
  await ensureBuilt(root);
  expect(mtime('dist/main.js'), 'no rebuild: every output is newer than its source').toBe(before);
});

it('rebuilds when any source under src/ is newer than its output, even when dist/main.js is not', async () => {
  writeFileSync(join(root, 'src/lib/answer.ts'), 'export const answer = 2;\n');
  age('dist/main.js', 60);
  // Three callers at once (as parallel test files): all see the new build.
  await Promise.all([ensureBuilt(root), ensureBuilt(root), ensureBuilt(root)]);
  expect(readFileSync(join(root, 'dist/lib/answer.js'), 'utf8')).toContain('answer = 2');
  expect(mtime('dist/lib/answer.js')).toBeGreaterThanOrEqual(mtime('src/lib/answer.ts'));
});
