/**
 * The test side of the envtest harness (envtest-setup.ts runs the control plane): the outcome of the
 * boot, kubectl, a raw HTTPS client that keeps what kubectl and client-node hide (status codes,
 * Status causes, every Warning header), service-account tokens, and the kube-apiserver restart.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { beforeAll, describe, inject } from 'vitest';
import type { EnvtestInfo } from './envtest.js';
import { kubeconfigYaml } from './envtest.js';
import { kubectl as runKubectl, type CommandResult } from './kubectl.js';
import type { EnvtestOutcome } from './envtest-setup.js';

function controlRequest(method: 'GET' | 'POST', path: string): Promise<{ status: number; json: any }> {
  const base = inject('envtestControl');
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits for the control plane's boot (started by the global setup) and returns its outcome. */
export async function envtestOutcome(): Promise<EnvtestOutcome> {
  return (await controlRequest('GET', '/env')).json as EnvtestOutcome;
}

/**
 * A describe block that runs against the real API server: skipped when KUBEBUILDER_ASSETS is unset
 * (the global setup printed why), failing with the reason when the control plane could not start.
 * `body` receives a getter for the connection details (available from beforeAll on).
 */
export async function describeEnvtest(name: string, body: (env: () => EnvtestInfo) => void): Promise<void> {
  const outcome = await envtestOutcome();
  describe.skipIf(outcome.state === 'skipped')(name, () => {
    beforeAll(() => {
      if (outcome.state === 'broken') throw new Error(outcome.reason);
    });
    body(() => {
      if (outcome.state !== 'ready') throw new Error(outcome.state === 'broken' ? outcome.reason : 'envtest skipped');
      return outcome.info;
    });
  });
}

/** Stops, starts or restarts kube-apiserver (same etcd, same port); resolves once done (ready). */
export async function apiServerLifecycle(op: 'stop' | 'start' | 'restart'): Promise<{ lastStopMs?: number }> {
  const r = await controlRequest('POST', `/apiserver/${op}`);
  if (r.status !== 200) throw new Error(`apiserver ${op}: ${r.json.error}`);
  return r.json;
}

/** Runs kubectl against the envtest API server (admin unless `kubeconfig` says otherwise). */
export function kubectl(env: EnvtestInfo, args: string[], options: { input?: string; kubeconfig?: string } = {}): Promise<CommandResult> {
  return runKubectl(env.kubectl, ['--kubeconfig', options.kubeconfig ?? env.kubeconfig, ...args], { home: env.dir, timeoutMs: 60_000, ...(options.input === undefined ? {} : { input: options.input }) });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(env: EnvtestInfo, args: string[], options: { input?: string; kubeconfig?: string } = {}): Promise<string> {
  const r = await kubectl(env, args, options);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A token of a ServiceAccount, issued by the API server itself (TokenRequest). */
export async function serviceAccountToken(env: EnvtestInfo, namespace: string, name: string): Promise<string> {
  return (await kubectlOk(env, ['create', 'token', name, '-n', namespace, '--duration', '1h'])).trim();
}

/** Writes a kubeconfig for `token` under the run's directory and returns its path. */
export function writeKubeconfig(env: EnvtestInfo, fileName: string, token: string, user = 'user'): string {
  const dir = join(env.dir, 'kubeconfigs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, fileName);
  writeFileSync(file, kubeconfigYaml(env.server, env.caFile, token, user), { mode: 0o600 });
  return file;
}

export interface ApiResponse {
  status: number;
  json: any;
  /** Texts of the Warning headers (`299 - "text"`), in order. */
  warnings: string[];
}

/** Parses one Warning header value: `299 - "text"` (RFC 7234; quotes and backslashes escaped). */
export function parseWarningHeader(value: string): string | undefined {
  const m = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(value);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}

/** Plain HTTPS requests to the API server, as any client sends them. */
export class ApiClient {
  private readonly ca: string;
  constructor(
    private readonly env: EnvtestInfo,
    private readonly token: string = env.token,
  ) {
    this.ca = readFileSync(env.caFile, 'utf8');
  }

  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${this.env.server}${path}`,
        {
          method,
          ca: this.ca,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }),
          },
          timeout: 60_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            const warnings: string[] = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) {
              if (res.rawHeaders[i]!.toLowerCase() === 'warning') {
                const w = parseWarningHeader(res.rawHeaders[i + 1]!);
                if (w !== undefined) warnings.push(w);
              }
            }
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = { raw: text };
            }
            resolve({ status: res.statusCode ?? 0, json, warnings });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
