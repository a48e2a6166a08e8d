/**
 * Runs the BUILT program (`node dist/main.js`) as a subprocess: vitest accepts imports that plain
 * Node rejects, so this is what proves the shipped program starts. Builds once if dist/ is missing.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '../..');
export const MAIN = join(REPO, 'dist/main.js');

export function ensureBuilt(): void {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
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
