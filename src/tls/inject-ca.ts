/**
 * Puts our CA into `webhooks[*].clientConfig.caBundle` of our own Validating and Mutating webhook
 * configurations, and nothing else. CAs already in the bundle stay until they expire, so during a
 * CA rotation the API server trusts replicas serving from either CA (gatekeeper#1045 is the
 * outage without this overlap). Each patch is guarded by a resourceVersion test and retried on
 * conflict, so a concurrent writer's change is never lost.
 */
import type { Logger } from 'pino';
import { goParserProblemsOfPem, mergeCaBundles, parsePemCertificates } from './pem.js';

export const DEFAULT_WEBHOOK_CONFIGURATION_NAME = 'backend-webhook';

export type WebhookConfigurationKind = 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration';

export type CaInjectionErrorCode = 'BAD_CA' | 'KUBECONFIG' | 'NOT_FOUND' | 'FORBIDDEN' | 'CONFLICT' | 'API_ERROR';

export class CaInjectionError extends Error {
  constructor(
    readonly code: CaInjectionErrorCode,
    message: string,
    readonly target?: { kind: WebhookConfigurationKind; name: string },
  ) {
    super(message);
    this.name = 'CaInjectionError';
  }
}

export interface InjectCaOptions {
  /** PEM of the CA(s) to add (a bundle is fine: e.g. ca-bundle.crt). */
  caPem: string;
  /** Path to a kubeconfig; default: KUBECONFIG / ~/.kube/config, else the in-cluster service account. */
  kubeconfig?: string;
  /** Name of our ValidatingWebhookConfiguration (default backend-webhook); null skips it. */
  validatingName?: string | null;
  /** Name of our MutatingWebhookConfiguration (default backend-webhook); null skips it. */
  mutatingName?: string | null;
  now?: Date;
  logger?: Logger;
  /** Attempts per object when another writer changes it between our read and our patch (default 5). */
  maxAttempts?: number;
}

export interface InjectionResult {
  kind: WebhookConfigurationKind;
  name: string;
  /** patched: caBundle changed; unchanged: already right; failed: see `error`. */
  outcome: 'patched' | 'unchanged' | 'failed';
  /** Webhooks in the configuration whose caBundle was set. */
  webhooks: number;
  error?: CaInjectionError;
}

/** The part of a webhook configuration this module reads. */
export interface WebhookConfigurationLike {
  metadata?: { resourceVersion?: string };
  webhooks?: Array<{ name?: string; clientConfig?: { caBundle?: string } }>;
}

export interface JsonPatchOperation {
  op: 'add' | 'test';
  path: string;
  value: unknown;
}

/**
 * The JSON patch that sets every webhook's caBundle to (its unexpired CAs + ours); empty when
 * nothing would change. Pure, for tests and for dry runs.
 */
export function planCaBundlePatch(configuration: WebhookConfigurationLike, caPem: string, now: Date): { patch: JsonPatchOperation[]; webhooks: number } {
  const operations: JsonPatchOperation[] = [];
  let webhooks = 0;
  (configuration.webhooks ?? []).forEach((webhook, index) => {
    if (webhook.clientConfig === undefined) return;
    webhooks += 1;
    const current = webhook.clientConfig.caBundle ?? '';
    const existingPem = Buffer.from(current, 'base64').toString('utf8');
    const merged = Buffer.from(mergeCaBundles(existingPem, caPem, now).pem, 'utf8').toString('base64');
    if (merged !== current) operations.push({ op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value: merged });
  });
  if (operations.length === 0) return { patch: [], webhooks };
  const resourceVersion = configuration.metadata?.resourceVersion;
  const guard: JsonPatchOperation[] = resourceVersion === undefined ? [] : [{ op: 'test', path: '/metadata/resourceVersion', value: resourceVersion }];
  return { patch: [...guard, ...operations], webhooks };
}

/** Refuses to inject anything but at least one unexpired CA certificate. */
export function checkCaPem(caPem: string, now: Date): void {
  const { certificates } = parsePemCertificates(caPem);
  if (certificates.length === 0) throw new CaInjectionError('BAD_CA', 'no PEM certificate in the CA file');
  const usable = certificates.filter((cert) => cert.x509.ca && cert.notAfter.getTime() > now.getTime());
  if (usable.length === 0) throw new CaInjectionError('BAD_CA', 'the CA file holds no unexpired CA certificate');
  // One certificate Go cannot parse makes the API server refuse the whole caBundle.
  const goProblems = goParserProblemsOfPem(caPem);
  if (goProblems.length > 0) throw new CaInjectionError('BAD_CA', `the API server (Go's crypto/x509) cannot parse the CA file: ${goProblems[0]}`);
}

interface ConfigurationApi {
  read(name: string): Promise<WebhookConfigurationLike>;
  patch(name: string, patch: JsonPatchOperation[]): Promise<unknown>;
}

export async function injectCaBundle(options: InjectCaOptions): Promise<InjectionResult[]> {
  const now = options.now ?? new Date();
  checkCaPem(options.caPem, now);
  const targets: Array<{ kind: WebhookConfigurationKind; name: string }> = [];
  const validatingName = options.validatingName === undefined ? DEFAULT_WEBHOOK_CONFIGURATION_NAME : options.validatingName;
  const mutatingName = options.mutatingName === undefined ? DEFAULT_WEBHOOK_CONFIGURATION_NAME : options.mutatingName;
  if (validatingName !== null) targets.push({ kind: 'ValidatingWebhookConfiguration', name: validatingName });
  if (mutatingName !== null) targets.push({ kind: 'MutatingWebhookConfiguration', name: mutatingName });

  const apis = await connect(options.kubeconfig);
  const results: InjectionResult[] = [];
  for (const target of targets) {
    const api = target.kind === 'ValidatingWebhookConfiguration' ? apis.validating : apis.mutating;
    try {
      results.push(await injectInto(api, target, options.caPem, now, options.maxAttempts ?? 5));
    } catch (error) {
      const failure = toInjectionError(error, target);
      results.push({ ...target, outcome: 'failed', webhooks: 0, error: failure });
    }
    const result = results[results.length - 1]!;
    if (result.outcome === 'failed') options.logger?.error({ ...target, code: result.error?.code, err: result.error?.message }, 'CA injection failed');
    else options.logger?.info({ ...target, outcome: result.outcome, webhooks: result.webhooks }, 'CA bundle injected');
  }
  return results;
}

async function injectInto(
  api: ConfigurationApi,
  target: { kind: WebhookConfigurationKind; name: string },
  caPem: string,
  now: Date,
  maxAttempts: number,
): Promise<InjectionResult> {
  for (let attempt = 1; ; attempt += 1) {
    const configuration = await api.read(target.name);
    const plan = planCaBundlePatch(configuration, caPem, now);
    if (plan.patch.length === 0) return { ...target, outcome: 'unchanged', webhooks: plan.webhooks };
    try {
      await api.patch(target.name, plan.patch);
      return { ...target, outcome: 'patched', webhooks: plan.webhooks };
    } catch (error) {
      // 422 is what the API server answers when our resourceVersion test fails; 409 a plain conflict.
      const status = statusOf(error);
      if ((status !== 409 && status !== 422) || attempt >= maxAttempts) throw error;
    }
  }
}

async function connect(kubeconfig: string | undefined): Promise<{ validating: ConfigurationApi; mutating: ConfigurationApi }> {
  // Loaded here, not at the top: importing client-node costs over a second.
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  try {
    if (kubeconfig !== undefined) config.loadFromFile(kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    throw new CaInjectionError('KUBECONFIG', `cannot load kubeconfig${kubeconfig ? ` ${kubeconfig}` : ''}: ${(error as Error).message}`);
  }
  // With nothing found, client-node falls back to http://localhost:8080, which it then refuses
  // ("HTTP protocol is not allowed ..."): a message nobody can act on. Say what is missing instead.
  if (kubeconfig === undefined && isClientNodeFallback(config)) {
    throw new CaInjectionError(
      'KUBECONFIG',
      'no cluster found: no --kubeconfig, KUBECONFIG is not set, ~/.kube/config does not exist, and this is not a pod (no service account); point at a cluster with --kubeconfig <file> or KUBECONFIG=<file>, or run in-cluster',
    );
  }
  const api = config.makeApiClient(k8s.AdmissionregistrationV1Api);
  const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
  return {
    validating: {
      read: (name) => api.readValidatingWebhookConfiguration({ name }),
      patch: (name, body) => api.patchValidatingWebhookConfiguration({ name, body, fieldManager: 'backend-webhook' }, jsonPatch),
    },
    mutating: {
      read: (name) => api.readMutatingWebhookConfiguration({ name }),
      patch: (name, body) => api.patchMutatingWebhookConfiguration({ name, body, fieldManager: 'backend-webhook' }, jsonPatch),
    },
  };
}

/** The cluster and user client-node's loadFromDefault makes up when it finds no configuration. */
function isClientNodeFallback(config: { getCurrentCluster(): { name: string; server: string } | null; getCurrentUser(): { name: string } | null }): boolean {
  const cluster = config.getCurrentCluster();
  return cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080' && config.getCurrentUser()?.name === 'user';
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function toInjectionError(error: unknown, target: { kind: WebhookConfigurationKind; name: string }): CaInjectionError {
  if (error instanceof CaInjectionError) return error;
  const status = statusOf(error);
  const what = `${target.kind} ${target.name}`;
  switch (status) {
    case 404:
      return new CaInjectionError('NOT_FOUND', `${what} not found`, target);
    case 401:
    case 403:
      return new CaInjectionError('FORBIDDEN', `not allowed to read or patch ${what} (HTTP ${status})`, target);
    case 409:
      return new CaInjectionError('CONFLICT', `${what} kept changing under us; gave up`, target);
    default: {
      // ApiException messages embed the whole response; the first line is enough for a log.
      const message = (error as Error)?.message?.split('\n')[0] ?? String(error);
      return new CaInjectionError('API_ERROR', `cannot patch ${what}: ${message}`, target);
    }
  }
}
