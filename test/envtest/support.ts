/**
 * Helpers shared by the envtest files: our server started as the product runs it (the built
 * program, its own self-generated certificates), registered through copies of the manifests' webhook
 * configurations whose clientConfig is our server's URL with our CA, and the CRDs installed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureBuilt, freePort, REPO, startProgram, type RunningProgram } from '../support/built-program.js';
import { kubectlOk } from '../support/envtest-client.js';
import type { EnvtestInfo } from '../support/envtest.js';
import { httpGet } from '../support/http-get.js';

export const MANIFESTS = join(REPO, 'manifests');
export const GROUP = 'ainetworking.prototype.x-k8s.io';
export const VERSION = 'v0alpha0';
/** Every webhook configuration object the manifests and these tests create carries this label. */
export const OUR_LABEL = 'app.kubernetes.io/name=backend-webhook';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(intervalMs);
  }
}

/** The objects of a manifests/ file (parsed YAML). */
export function manifest(file: string): any[] {
  return parseAllDocuments(readFileSync(join(MANIFESTS, file), 'utf8'))
    .map((d) => d.toJS())
    .filter((o) => o);
}

/** kubectl apply --server-side of objects (JSON on stdin). */
export async function apply(env: EnvtestInfo, objects: unknown[], extra: string[] = []): Promise<string> {
  return kubectlOk(env, ['apply', '--server-side', '--force-conflicts', '-f', '-', ...extra], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
}

/** The CRDs of the manifests, applied and Established. */
export async function installCrds(env: EnvtestInfo): Promise<void> {
  await kubectlOk(env, ['apply', '--server-side', '-f', join(MANIFESTS, 'crd-backends.yaml'), '-f', join(MANIFESTS, 'crd-xbackenddestinations.yaml')]);
  await kubectlOk(env, ['wait', '--for', 'condition=Established', '--timeout', '60s', `crd/backends.${GROUP}`, `crd/xbackenddestinations.${GROUP}`]);
}

/** Removes every webhook configuration of ours (manifests' and test copies): a clean slate per file. */
export async function deleteWebhookConfigurations(env: EnvtestInfo): Promise<void> {
  await kubectlOk(env, ['delete', 'validatingwebhookconfigurations,mutatingwebhookconfigurations', '-l', OUR_LABEL, '--ignore-not-found', '--wait=false']);
}

export async function createNamespace(env: EnvtestInfo, name: string, labels: Record<string, string> = {}): Promise<void> {
  await apply(env, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }]);
}

export interface WebhookCopyOptions {
  /** metadata.name of both copies (the manifests say backend-webhook). */
  name: string;
  /** https://127.0.0.1:PORT */
  baseUrl: string;
  /** PEM of the CA to trust; omitted: no caBundle (to be injected). */
  caPem?: string;
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
}

/**
 * The manifests' Validating and Mutating webhook configurations, unchanged but for the name and
 * each clientConfig: our server's URL (same path) instead of the in-cluster Service.
 */
export function webhookConfigurationCopies(options: WebhookCopyOptions): any[] {
  const [validating] = manifest('validatingwebhookconfiguration.yaml');
  const [mutating] = manifest('mutatingwebhookconfiguration.yaml');
  for (const config of [validating, mutating]) {
    config.metadata.name = options.name;
    for (const webhook of config.webhooks) {
      const path = webhook.clientConfig.service.path as string;
      webhook.clientConfig = { url: `${options.baseUrl}${path}`, ...(options.caPem ? { caBundle: Buffer.from(options.caPem).toString('base64') } : {}) };
      if (options.failurePolicy) webhook.failurePolicy = options.failurePolicy;
      if (options.timeoutSeconds !== undefined) webhook.timeoutSeconds = options.timeoutSeconds;
    }
  }
  return [validating, mutating];
}


export interface WebhookServer {
  readonly program: RunningProgram;
  readonly port: number;
  readonly metricsPort: number;
  /** https://127.0.0.1:PORT */
  readonly baseUrl: string;
  readonly certDir: string;
  /** Our self-generated CA (the CA file the server names at start-up). */
  readonly caPem: string;
  /** Waits until /readyz answers 200 (sources synced). */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `node dist/main.js serve` on 127.0.0.1 with its own certificates in a fresh cert dir (or `certDir`),
 * HTTPS on `port` (default any free port), metrics on a free port.
 */
export async function startWebhookServer(args: string[], options: { port?: number; certDir?: string; env?: Record<string, string> } = {}): Promise<WebhookServer> {
  await ensureBuilt();
  const ownDir = options.certDir === undefined;
  const certDir = options.certDir ?? mkdtempSync(join(tmpdir(), 'envtest-certs-'));
  const program = startProgram(
    ['serve', '--host', '127.0.0.1', '--port', String(options.port ?? 0), '--metrics-host', '127.0.0.1', '--metrics-port', String(await freePort()), '--cert-dir', certDir, '--shutdown-delay-seconds', '0', '--shutdown-grace-seconds', '1', ...args],
    options.env,
  );
  running.add(program);
  const stop = async (): Promise<void> => {
    await program.kill();
    running.delete(program);
    if (ownDir) rmSync(certDir, { recursive: true, force: true });
  };
  let listening: any;
  try {
    listening = await program.waitForLog((l) => l.msg === 'backend-webhook listening', 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const port = listening.port as number;
  const metricsPort = listening.metricsPort as number;
  return {
    program,
    port,
    metricsPort,
    baseUrl: `https://127.0.0.1:${port}`,
    certDir,
    caPem: readFileSync(listening.caFile as string, 'utf8'),
    async ready(timeoutMs = 45_000) {
      await eventually('webhook server ready', async () => ((await httpGet(metricsPort, '/readyz')).status === 200 ? true : undefined), timeoutMs);
    },
    stop,
  };
}

/** Servers still running when the test file's process exits (a failed hook) are killed, not left behind. */
const running = new Set<RunningProgram>();
process.once('exit', () => {
  for (const program of running) if (program.child.exitCode === null && program.child.signalCode === null) program.child.kill('SIGKILL');
});

/** A Backend object. */
export function backend(name: string, namespace: string, spec: unknown, kind: 'Backend' | 'XBackendDestination' = 'Backend'): any {
  return { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, namespace }, spec };
}

export const plural = (kind: string): string => (kind === 'XBackendDestination' ? 'xbackenddestinations' : 'backends');

/** Path of the collection of `kind` in `namespace` on the API server. */
export const collectionPath = (namespace: string, kind = 'Backend'): string => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural(kind)}`;

/** Removes a kubectl result's noise for messages in assertions. */
export const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

