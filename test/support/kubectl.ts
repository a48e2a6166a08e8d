/** kubectl, the Go client: a kubeconfig for a server and CA, and `kubectl` runs that never throw. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KubeconfigOptions {
  server: string;
  caPem: string;
  token?: string;
}

/** Writes a one-cluster kubeconfig (our CA as certificate-authority-data) and returns its path. */
export function writeKubeconfig(dir: string, name: string, options: KubeconfigOptions): string {
  const file = join(dir, `${name}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caPem).toString('base64') } }],
    // A user without credentials makes kubectl prompt for a password; our server ignores the token.
    users: [{ name, user: { token: options.token ?? 'unused' } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  };
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with its own HOME (no user config or cache leaks in) and a deadline. */
export function kubectl(binary: string, args: string[], options: { home: string; timeoutMs?: number; input?: string }): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      binary,
      args,
      { env: { PATH: process.env.PATH ?? '', HOME: options.home }, timeout: options.timeoutMs ?? 30_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}
