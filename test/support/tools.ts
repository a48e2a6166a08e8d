/**
 * The real programs of this ecosystem (kubectl, promtool, etcd, kube-apiserver) that tests talk to.
 * Outside CI a missing tool skips its tests with one visible line; under CI=true it fails them,
 * because .ci/run installs every one of them and a silent skip would pass a broken product.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const IN_CI = process.env.CI === 'true';

/** The absolute path of `name` on PATH (or in `dirs` first), or undefined. */
export function findExecutable(name: string, dirs: string[] = []): string | undefined {
  for (const dir of [...dirs, ...(process.env.PATH ?? '').split(delimiter)]) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The tool's path; undefined (after one line on stderr saying why) when it is missing outside CI.
 * Under CI=true a missing tool throws, which fails the test file that asked for it.
 */
export function requireTool(name: string, install: string, dirs: string[] = []): string | undefined {
  const found = findExecutable(name, dirs);
  if (found) return found;
  const why = `${name} not found (${install})`;
  if (IN_CI) throw new Error(`${why}: required when CI=true`);
  process.stderr.write(`skipping tests that need ${name}: ${why}\n`);
  return undefined;
}

/** `kubectl version --client` as one line, for test names and failure messages. */
export function toolVersion(path: string, args: string[]): string {
  try {
    return execFileSync(path, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
  } catch {
    return 'unknown version';
  }
}
