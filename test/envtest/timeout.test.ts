/**
 * The timeoutSeconds and failurePolicy of our webhook configurations, honoured by the real API
 * server: our server is frozen (SIGSTOP: its socket still accepts connections, nothing answers), so
 * the API server gives up after timeoutSeconds and applies failurePolicy. Fail (the manifests'
 * choice) refuses the write with the API server's timeout message; Ignore lets it through unjudged.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient, describeEnvtest } from '../support/envtest-client.js';
import { apply, backend, collectionPath, createNamespace, deleteWebhookConfigurations, eventually, installCrds, manifest, startWebhookServer, webhookConfigurationCopies, type WebhookServer } from './support.js';

const TEAM = 'envtest-timeout';
const fqdn = (name: string) => backend(name, TEAM, { destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 443, protocol: 'HTTP' }] } });

await describeEnvtest('timeoutSeconds and failurePolicy on the real API server', (env) => {
  let server: WebhookServer;
  let api: ApiClient;
  let frozen = false;
  const freeze = (): void => {
    process.kill(server.program.child.pid!, 'SIGSTOP');
    frozen = true;
  };
  const thaw = (): void => {
    if (frozen) process.kill(server.program.child.pid!, 'SIGCONT');
    frozen = false;
  };
  const create = async (name: string) => {
    const started = Date.now();
    const r = await api.request('POST', `${collectionPath(TEAM)}?dryRun=All`, fqdn(name));
    return { ...r, elapsedMs: Date.now() - started };
  };

  beforeAll(async () => {
    await deleteWebhookConfigurations(env());
    await installCrds(env());
    await createNamespace(env(), TEAM);
    api = new ApiClient(env());
    server = await startWebhookServer([]);
    await server.ready();
    await apply(env(), webhookConfigurationCopies({ name: 'envtest-timeout', baseUrl: server.baseUrl, caPem: server.caPem }));
    await eventually('webhooks called', async () => {
      const r = await create('probe');
      if (!r.json?.spec?.destination?.ports?.[0]?.tls) throw new Error(`not defaulted: HTTP ${r.status}: ${r.json?.message ?? JSON.stringify(r.json?.spec)}`);
      return true;
    });
  });
  afterAll(async () => {
    thaw();
    await server?.stop();
    await deleteWebhookConfigurations(env());
  });

  it('failurePolicy Fail: a webhook that does not answer within timeoutSeconds refuses the write, with the API server\'s message', async () => {
    const [mutating] = manifest('mutatingwebhookconfiguration.yaml');
    const timeoutSeconds = mutating.webhooks[0].timeoutSeconds as number;
    expect(timeoutSeconds).toBe(5);
    expect(mutating.webhooks[0].failurePolicy).toBe('Fail');
    freeze();
    let r: Awaited<ReturnType<typeof create>>;
    try {
      r = await create('frozen');
    } finally {
      thaw();
    }
    expect(r.status).toBe(500);
    expect(r.json.reason).toBe('InternalError');
    expect(r.json.message).toMatch(
      new RegExp(`^Internal error occurred: failed calling webhook "backends\\.defaulting\\.ainetworking\\.prototype\\.x-k8s\\.io": failed to call webhook: Post "https://127\\.0\\.0\\.1:${server.port}/mutate\\?timeout=${timeoutSeconds}s": context deadline exceeded`),
    );
    // It waited for the deadline (not a connection error), and gave up at it, not at the request's own minute.
    expect(r.elapsedMs).toBeGreaterThanOrEqual(timeoutSeconds * 1000 - 100);
    expect(r.elapsedMs).toBeLessThan((timeoutSeconds + 25) * 1000);

    // Thawed, the same server answers again through the same registration.
    const after = await create('thawed');
    expect(after.status).toBe(201);
    expect(after.json.spec.destination.ports[0].tls).toEqual({ mode: 'Simple', sni: 'api.openai.com' });
  });

  it('failurePolicy Ignore: the write goes through after the deadlines, unjudged and undefaulted', async () => {
    const timeoutSeconds = 2;
    await apply(env(), webhookConfigurationCopies({ name: 'envtest-timeout', baseUrl: server.baseUrl, caPem: server.caPem, failurePolicy: 'Ignore', timeoutSeconds }));
    freeze();
    let r: Awaited<ReturnType<typeof create>>;
    try {
      // The API server picks up the changed configuration asynchronously: until then, Fail answers.
      r = await eventually('Ignore in effect', async () => {
        const attempt = await create('ignored');
        return attempt.status === 201 ? attempt : undefined;
      });
    } finally {
      thaw();
    }
    expect(r.json.spec.destination.ports[0].tls).toBeUndefined();
    // Both webhooks (mutating, then validating) were waited for.
    expect(r.elapsedMs).toBeGreaterThanOrEqual(2 * timeoutSeconds * 1000 - 100);
  });
});
