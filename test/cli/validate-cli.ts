/**
 * Runs the BUILT command line (`node dist/main.js`) as a subprocess, as CI would; ensureBuilt
 * (test/support/built-program.ts) rebuilds dist/ first when a source is newer than its output.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAIN } from '../support/built-program.js';

export { ensureBuilt, MAIN } from '../support/built-program.js';
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = 'test/fixtures/offline';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `backend-webhook validate <args>` from the repository root, without inherited BACKEND_WEBHOOK_* settings. */
export function runValidate(args: readonly string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BACKEND_WEBHOOK_')) env[k] = v;
  Object.assign(env, options.env ?? {});
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'validate', ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the CLI may exit before reading all of stdin
    child.stdin.end(options.stdin ?? '');
  });
}

export const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);
