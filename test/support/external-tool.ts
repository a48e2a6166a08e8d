/**
 * Tests that drive a real external tool (promtool, kubectl). When the tool is missing: under CI=true
 * the suite FAILS (CI must run them; .ci/run installs the tools); elsewhere it is skipped with one
 * visible line saying why.
 */
import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

const found = new Map<string, boolean>();

/** Whether `command --version` (or the given probe arguments) runs. */
export function toolAvailable(command: string, probe: readonly string[] = ['--version']): boolean {
  let ok = found.get(command);
  if (ok === undefined) {
    const result = spawnSync(command, probe, { stdio: 'ignore', timeout: 30_000 });
    ok = result.error === undefined && result.status === 0;
    found.set(command, ok);
  }
  return ok;
}

/** `describe` when the tool runs; otherwise a failing test under CI=true, a skipped suite elsewhere. */
export function describeWithTool(command: string, title: string, body: () => void, probe?: readonly string[], options: { timeout?: number } = {}): void {
  if (toolAvailable(command, probe)) {
    describe(title, options, body);
    return;
  }
  if (process.env['CI'] === 'true') {
    describe(title, () => {
      it(`needs ${command}`, () => {
        throw new Error(`${command} is not installed, and CI=true requires these tests to run (.ci/run installs it)`);
      });
    });
    return;
  }
  console.warn(`skipped "${title}": ${command} is not installed (under CI=true this fails)`);
  describe.skip(title, body);
}

/** Runs a tool to completion; never throws on a non-zero exit. */
export function runTool(command: string, args: readonly string[], options: { cwd?: string; input?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd: options.cwd, input: options.input, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
