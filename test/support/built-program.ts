/**
 * Runs the BUILT program (`node dist/main.js`) as a subprocess: vitest accepts imports that plain
 * Node rejects, so this is what proves the shipped program starts. ensureBuilt rebuilds dist/ when
 * it is missing or any source under src/ is newer than its output (`npm test` builds before vitest,
 * so usually it is fresh; `npx vitest` after an edit is not); a lock directory keeps parallel test
 * files from building at once, and whoever gets it second finds dist/ fresh.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path, { join } from 'node:path';

export const REPO = join(import.meta.dirname, '../..');
export const MAIN = join(REPO, 'dist/main.js');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

function isFresh(root: string): boolean {
  if (!existsSync(path.join(root, 'dist/main.js'))) return false;
  const src = path.join(root, 'src');
  return sources(src).every((file) => {
    const out = path.join(root, 'dist', path.relative(src, file)).replace(/\.ts$/, '.js');
    return existsSync(out) && statSync(out).mtimeMs >= statSync(file).mtimeMs;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `root`: the project to build (the repository; another only in the test of this function). */
export async function ensureBuilt(root: string = REPO): Promise<void> {
  if (isFresh(root)) return;
  const lock = path.join(os.tmpdir(), `backend-webhook-build-${Buffer.from(root).toString('hex').slice(-16)}.lock`);
  const deadline = Date.now() + 240_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than five minutes belongs to a dead process.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await sleep(250);
    }
  }
  try {
    if (isFresh(root)) return;
    // Type errors elsewhere in a shared tree still emit JavaScript; only a missing entry point is fatal.
    spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
    if (!existsSync(path.join(root, 'dist/main.js'))) throw new Error('the build produced no dist/main.js');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function runProgram(args: string[], options: { env?: Record<string, string>; input?: string } = {}): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [MAIN, ...args], { cwd: REPO, env: { ...process.env, ...options.env }, input: options.input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface RunningProgram {
  child: ChildProcessWithoutNullStreams;
  /** Parsed JSON log lines so far. */
  logs: any[];
  waitForLog(predicate: (line: any) => boolean, timeoutMs?: number): Promise<any>;
  exited: Promise<number | null>;
  /** Kills the program if it still runs and waits for it (for afterAll). */
  kill(): Promise<void>;
}

export function startProgram(args: string[], env: Record<string, string> = {}): RunningProgram {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: REPO, env: { ...process.env, ...env } });
  const logs: any[] = [];
  const waiters: Array<{ predicate: (line: any) => boolean; resolve: (line: any) => void }> = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let parsed: any;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = { raw: line };
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.predicate(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    waitForLog(predicate, timeoutMs = 30_000) {
      const found = logs.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}; logs: ${JSON.stringify(logs).slice(0, 2000)}`)), timeoutMs);
        void exited.then((code) => reject(new Error(`program exited (${code}) before the log line; stderr: ${stderr}`)));
        waiters.push({
          predicate,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}
