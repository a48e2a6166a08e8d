/**
 * The server's log lines are buffered (one write per few KiB, not per line): none may be lost on
 * exit or a crash, and none may wait more than a moment on a quiet server. Runs the BUILT module in
 * a child process, as production does.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ensureBuilt, REPO } from '../support/built-program.js';

beforeAll(() => ensureBuilt());

const SERVE_MODULE = join(REPO, 'dist/cli/serve.js');

function runScript(body: string): { lines: () => string[]; done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; kill: () => void } {
  const script = `const { createLogger } = await import(${JSON.stringify(SERVE_MODULE)}); const logger = createLogger('info');\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { lines: () => out.split('\n').filter(Boolean), done, kill: () => child.kill('SIGKILL') };
}

it('writes every buffered line when the process exits', async () => {
  const run = runScript(`for (let i = 0; i < 50; i++) logger.info({ i }, 'line'); process.exit(3);`);
  expect((await run.done).code).toBe(3);
  const lines = run.lines().map((l) => JSON.parse(l));
  expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(lines[0]).toMatchObject({ level: 30, msg: 'line', app: 'backend-webhook' });
});

it('writes decision lines still waiting for the end of the turn when the process exits', async () => {
  const decisionModule = join(REPO, 'dist/observability/decision-log.js');
  const run = runScript(`const { decisionLineWriter } = await import(${JSON.stringify(decisionModule)}); const write = decisionLineWriter(logger, 'admission decision'); write({ uid: 'a' }); write({ uid: 'b' }); process.exit(0);`);
  expect((await run.done).code).toBe(0);
  expect(run.lines().map((l) => JSON.parse(l))).toMatchObject([
    { uid: 'a', msg: 'admission decision', level: 30 },
    { uid: 'b', msg: 'admission decision', level: 30 },
  ]);
});

it('writes buffered lines before dying of an uncaught exception', async () => {
  const run = runScript(`logger.error({ at: 'before' }, 'about to crash'); setImmediate(() => { throw new Error('boom'); });`);
  expect((await run.done).code).not.toBe(0);
  expect(run.lines().map((l) => JSON.parse(l).at)).toEqual(['before']);
});

it('writes a lone line on a quiet server without waiting for more, or for exit', async () => {
  // The line carries the child's clock at logging time; arrival is stamped here (one machine, one clock).
  const run = runScript(`logger.info({ lone: true, loggedAt: Date.now() }, 'only line'); setInterval(() => {}, 1000);`);
  // The child may take long to start on a loaded machine: that wait is not what is measured.
  const deadline = Date.now() + 30_000;
  while (run.lines().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const arrivedAt = Date.now();
  // Killed with SIGKILL: no exit handler runs, so the line can only have come from the periodic flush.
  run.kill();
  await run.done;
  const lines = run.lines().map((l) => JSON.parse(l));
  expect(lines.map((l) => l.lone)).toEqual([true]);
  // Flushed within the interval (README: 200 ms) plus a margin for a loaded machine: a flush every
  // 10 s, or only at 4 KiB, fails.
  expect(arrivedAt - lines[0].loggedAt).toBeLessThan(5_000);
});
