/**
 * Backends through the real API server, with our server (the built program, its own certificates)
 * registered by URL in copies of the manifests' webhook configurations: what a user meets.
 * Verdicts and causes as the API server relays them, warnings from its Warning headers, the defaults
 * it actually stores (our mutating patch applied by the API server), where the CRD's own schema and
 * field validation answer before we are asked, UPDATEs of objects stored before the webhook existed
 * (ratcheting), and the ConfigMap webhook refusing broken registrations at `kubectl apply`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, describeEnvtest, kubectl } from '../support/envtest-client.js';
import { apply, backend, collectionPath, createNamespace, deleteWebhookConfigurations, eventually, installCrds, oneLine, startWebhookServer, webhookConfigurationCopies, type WebhookServer } from './support.js';

const TEAM = 'envtest-admission';
const SYSTEM = 'backend-webhook-system';
const VALIDATING_WEBHOOK = 'backends.validation.ainetworking.prototype.x-k8s.io';
const DENIED = `admission webhook "${VALIDATING_WEBHOOK}" denied the request: `;
const CREDENTIALS = 'gateway.networking.k8s.io/CredentialInjector:v1';

type Obj = Record<string, unknown>;
const port = (extra: Obj = {}): Obj => ({ number: 443, protocol: 'HTTP', ...extra });
const fqdn = (hostname: unknown, ports: unknown[] = [port()]): Obj => ({ destination: { type: 'Fqdn', fqdn: { hostname }, ports } });

interface Row {
  name: string;
  spec: unknown;
  kind?: 'Backend' | 'XBackendDestination';
  /** kubectl's default; `Warn` prunes unknown fields with a warning instead. */
  fieldValidation?: 'Strict' | 'Warn';
  status: number;
  /** Exactly these causes (field, reason), when refused by our webhook. */
  causes?: Array<{ field: string; reason: string; message?: RegExp }>;
  /** The API server's message. */
  message?: RegExp;
  /** Exactly these warnings, in order (each matched). */
  warnings?: RegExp[];
  /** What the API server would store (dry run) under spec.destination.ports. */
  ports?: unknown[];
}

const ROWS: Row[] = [
  {
    name: 'an Fqdn port without tls is allowed and stored defaulted to Simple with SNI = hostname',
    spec: fqdn('api.openai.com'),
    status: 201,
    warnings: [],
    ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.openai.com' } }],
  },
  {
    name: 'an XBackendDestination is defaulted the same way',
    kind: 'XBackendDestination',
    spec: fqdn('api.anthropic.com', [port(), port({ number: 8443, tls: { mode: 'Mutual', clientCertificateRef: { name: 'client' } } })]),
    status: 201,
    warnings: [],
    ports: [
      { number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.anthropic.com' } },
      { number: 8443, protocol: 'HTTP', tls: { mode: 'Mutual', clientCertificateRef: { name: 'client' } } },
    ],
  },
  {
    name: 'a legacy tls.mode spelling is refused with one cause and the hint',
    spec: fqdn('api.openai.com', [port({ tls: { mode: 'SIMPLE' } })]),
    status: 422,
    causes: [{ field: 'spec.destination.ports[0].tls.mode', reason: 'FieldValueNotSupported', message: /^Unsupported value: "SIMPLE": supported values: "Simple", "Mutual", "None"; modes are PascalCase: use "Simple"$/ }],
  },
  {
    name: 'every problem at once: mode, duplicate port, extension rawConfig against its registered schema',
    spec: { ...fqdn('api.openai.com', [port({ tls: { mode: 'SIMPLE' } }), port()]), extensions: [{ name: 'creds', type: CREDENTIALS, rawConfig: { secretRef: {} } }] },
    status: 422,
    causes: [
      { field: 'spec.destination.ports[0].tls.mode', reason: 'FieldValueNotSupported' },
      { field: 'spec.destination.ports[1].number', reason: 'FieldValueDuplicate', message: /^Duplicate value: 443$/ },
      { field: 'spec.extensions[0].rawConfig/secretRef', reason: 'FieldValueRequired', message: /must have the property "name"/ },
    ],
  },
  {
    name: 'the cloud metadata address is refused',
    spec: { destination: { type: 'Ip', ip: { address: '169.254.169.254' }, ports: [port()] } },
    status: 422,
    causes: [{ field: 'spec.destination.ip.address', reason: 'FieldValueInvalid' }],
  },
  {
    name: 'a cluster-internal hostname is refused',
    spec: fqdn('llm.models.svc.cluster.local'),
    status: 422,
    causes: [{ field: 'spec.destination.fqdn.hostname', reason: 'FieldValueInvalid' }],
  },
  {
    name: 'an extension type without a registered schema is refused (deny by default)',
    spec: { ...fqdn('api.openai.com'), extensions: [{ name: 'audit', type: 'example.com/AuditLog:v1', rawConfig: { level: 'full' } }] },
    status: 422,
    causes: [{ field: 'spec.extensions[0].type', reason: 'FieldValueNotSupported' }],
  },
  {
    name: 'an extension valid against its packaged schema is allowed',
    spec: { ...fqdn('api.openai.com', [port({ tls: { mode: 'Simple', sni: 'api.openai.com' } })]), extensions: [{ name: 'creds', type: CREDENTIALS, rawConfig: { secretRef: { name: 'openai-key' } } }] },
    status: 201,
    warnings: [],
    ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.openai.com' } }],
  },
  {
    name: 'insecureSkipVerify is allowed with a warning, relayed as a Warning header',
    spec: fqdn('api.openai.com', [port({ tls: { mode: 'Simple', insecureSkipVerify: true } })]),
    status: 201,
    warnings: [/^spec\.destination\.ports\[0\]\.tls\.insecureSkipVerify: true disables verification/],
  },
  {
    name: 'mode None to an external host is allowed with a plaintext warning, and not defaulted',
    spec: fqdn('api.example.com', [port({ number: 80, tls: { mode: 'None' } })]),
    status: 201,
    warnings: [/^spec\.destination\.ports\[0\]\.tls\.mode: None sends plaintext/],
    ports: [{ number: 80, protocol: 'HTTP', tls: { mode: 'None' } }],
  },
  {
    name: 'the legacy KubernetesService type is allowed with a warning',
    spec: { destination: { type: 'KubernetesService', service: { name: 'llm' }, ports: [port()] } },
    status: 201,
    warnings: [/^spec\.destination\.type: KubernetesService .*use Service/],
  },
  {
    // The CRD's structural schema is checked after mutating and before validating admission: a
    // type error never reaches our validating webhook, and the user reads the API server's words.
    name: 'a type error is answered by the CRD schema, not by us',
    spec: fqdn(42),
    status: 422,
    message: /^Backend\.ainetworking\.prototype\.x-k8s\.io "[a-z0-9-]+" is invalid: spec\.destination\.fqdn\.hostname: Invalid value: "integer": spec\.destination\.fqdn\.hostname in body must be of type string: "integer"$/,
  },
  {
    // Strict field validation (kubectl's default) refuses an unknown field while decoding, before any webhook.
    name: 'an unknown field under Strict field validation is refused by the API server while decoding',
    spec: { ...fqdn('api.openai.com'), timeout: '10s' },
    status: 400,
    message: /strict decoding error: unknown field "spec\.timeout"/,
  },
  {
    // Under Warn the API server prunes it: our webhooks see (and default) the object without it.
    name: 'an unknown field under Warn field validation is pruned with the API server\'s warning',
    spec: { ...fqdn('api.openai.com'), timeout: '10s' },
    fieldValidation: 'Warn',
    status: 201,
    warnings: [/^unknown field "spec\.timeout"$/],
    ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.openai.com' } }],
  },
];

await describeEnvtest('Backends through the real API server', (env) => {
  let server: WebhookServer;
  let api: ApiClient;

  /** Objects written before any webhook existed: what ratcheting is for. */
  const legacy = {
    mode: backend('legacy-mode', TEAM, fqdn('api.openai.com', [port({ tls: { mode: 'SIMPLE' } }), port({ number: 8443, tls: { mode: 'Simple' } })])),
    plain: backend('legacy-plain', TEAM, fqdn('api.openai.com')),
  };

  beforeAll(async () => {
    await deleteWebhookConfigurations(env());
    await installCrds(env());
    await createNamespace(env(), TEAM);
    await createNamespace(env(), SYSTEM);
    api = new ApiClient(env());
    for (const object of Object.values(legacy)) {
      const r = await api.request('POST', collectionPath(TEAM), object);
      expect(r.status, JSON.stringify(r.json)).toBe(201);
    }
    server = await startWebhookServer([]);
    await server.ready();
    await apply(env(), webhookConfigurationCopies({ name: 'envtest-admission', baseUrl: server.baseUrl, caPem: server.caPem }));
    // The API server picks up new webhook configurations asynchronously.
    const probe = backend('probe', TEAM, fqdn('api.openai.com', [port({ tls: { mode: 'SIMPLE' } })]));
    await eventually('webhooks called', async () => {
      const r = await api.request('POST', `${collectionPath(TEAM)}?dryRun=All`, probe);
      if (r.status !== 422) throw new Error(`HTTP ${r.status}: ${r.json?.message}`);
      return true;
    });
  });
  afterAll(async () => {
    await server?.stop();
    await deleteWebhookConfigurations(env());
  });

  describe('CREATE with dryRun=All', () => {
    ROWS.forEach((row, i) => {
      it(row.name, async () => {
        const kind = row.kind ?? 'Backend';
        const name = `row-${i}`;
        const r = await api.request('POST', `${collectionPath(TEAM, kind)}?dryRun=All&fieldValidation=${row.fieldValidation ?? 'Strict'}`, backend(name, TEAM, row.spec, kind));
        expect(r.status, JSON.stringify(r.json)).toBe(row.status);
        if (row.causes) {
          expect(r.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422, details: { name, group: 'ainetworking.prototype.x-k8s.io', kind } });
          const causes = r.json.details.causes as Array<{ field: string; reason: string; message: string }>;
          expect(causes.map((c) => ({ field: c.field, reason: c.reason }))).toEqual(row.causes.map((c) => ({ field: c.field, reason: c.reason })));
          row.causes.forEach((c, j) => {
            if (c.message) expect(causes[j]!.message).toMatch(c.message);
          });
          // The API server prefixes our message with the webhook's name; the rest is Kubernetes'
          // NewInvalid wording: one cause as is, several in brackets.
          const said = causes.map((c) => `${c.field}: ${c.message}`);
          expect(r.json.message).toBe(`${DENIED}${kind}.ainetworking.prototype.x-k8s.io "${name}" is invalid: ${said.length === 1 ? said[0] : `[${said.join(', ')}]`}`);
        }
        if (row.message) {
          expect(r.json.message).toMatch(row.message);
          expect(r.json.message).not.toContain('admission webhook');
        }
        if (row.warnings) {
          expect(r.warnings).toHaveLength(row.warnings.length);
          row.warnings.forEach((w, j) => expect(r.warnings[j]).toMatch(w));
        }
        if (row.ports) expect(r.json.spec.destination.ports).toEqual(row.ports);
      });
    });

    it('nothing of the dry runs was stored', async () => {
      const list = await api.request('GET', collectionPath(TEAM));
      expect(list.json.items.map((o: any) => o.metadata.name).sort()).toEqual(['legacy-mode', 'legacy-plain']);
    });
  });

  describe('what kubectl users read (kubectl apply --dry-run=server)', () => {
    const manifestOf = (name: string, spec: unknown): string => JSON.stringify(backend(name, TEAM, spec));

    it('a refusal: every cause on its own line, under kubectl\'s heading', async () => {
      const spec = { ...fqdn('api.openai.com', [port({ tls: { mode: 'SIMPLE' } }), port()]), extensions: [{ name: 'creds', type: CREDENTIALS, rawConfig: { secretRef: {} } }] };
      const r = await kubectl(env(), ['apply', '--dry-run=server', '-f', '-'], { input: manifestOf('openai', spec) });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        'The Backend "openai" is invalid: ',
        '* spec.destination.ports[0].tls.mode: Unsupported value: "SIMPLE": supported values: "Simple", "Mutual", "None"; modes are PascalCase: use "Simple"',
        '* spec.destination.ports[1].number: Duplicate value: 443',
        '* spec.extensions[0].rawConfig/secretRef: Required value: must have the property "name"',
      ]);
    });

    it('an acceptance with a warning: kubectl prints it as "Warning: ..."', async () => {
      const r = await kubectl(env(), ['apply', '--dry-run=server', '-f', '-'], { input: manifestOf('skip-verify', fqdn('api.openai.com', [port({ tls: { mode: 'Simple', insecureSkipVerify: true } })])) });
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('backend.ainetworking.prototype.x-k8s.io/skip-verify created (server dry run)');
      expect(r.stderr).toMatch(/^Warning: spec\.destination\.ports\[0\]\.tls\.insecureSkipVerify: true disables verification/);
    });
  });

  it('the defaults are what the API server stores and serves back', async () => {
    const created = await api.request('POST', collectionPath(TEAM), backend('stored', TEAM, fqdn('api.mistral.ai')));
    expect(created.status).toBe(201);
    const got = await api.request('GET', `${collectionPath(TEAM)}/stored`);
    expect(got.json.spec.destination.ports).toEqual([{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.mistral.ai' } }]);
  });

  it('the webhooks\' namespaceSelector leaves backend-webhook-system alone: not judged, not defaulted', async () => {
    const r = await api.request('POST', `${collectionPath(SYSTEM)}?dryRun=All`, backend('unjudged', SYSTEM, fqdn('api.openai.com', [port({ tls: { mode: 'SIMPLE' } }), port({ number: 80 })])));
    expect(r.status).toBe(201);
    expect(r.json.spec.destination.ports).toEqual([port({ tls: { mode: 'SIMPLE' } }), port({ number: 80 })]);
  });

  describe('UPDATEs of objects stored before the webhook existed (ratcheting)', () => {
    const patch = (name: string, body: unknown) => api.request('PATCH', `${collectionPath(TEAM)}/${name}?dryRun=All&fieldValidation=Strict`, body, 'application/merge-patch+json');
    const RATCHET = /^unchanged, so allowed: spec\.destination\.ports\[0\]\.tls\.mode: Unsupported value: "SIMPLE"/;

    it('a label change is allowed; the old problem is said as a warning', async () => {
      const r = await patch('legacy-mode', { metadata: { labels: { team: 'a' } } });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.warnings).toEqual([expect.stringMatching(RATCHET)]);
    });

    it('a change elsewhere in the spec is allowed with the same warning', async () => {
      const ports = structuredClone((legacy.mode.spec as any).destination.ports);
      ports[1].number = 9443;
      const r = await patch('legacy-mode', { spec: { destination: { ports } } });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.warnings).toEqual([expect.stringMatching(RATCHET)]);
      expect(r.json.spec.destination.ports[1].number).toBe(9443);
    });

    it('changing the broken value to another broken value is refused', async () => {
      const ports = structuredClone((legacy.mode.spec as any).destination.ports);
      ports[0].tls.mode = 'MUTUAL';
      const r = await patch('legacy-mode', { spec: { destination: { ports } } });
      expect(r.status).toBe(422);
      expect(r.json.details.causes.map((c: any) => [c.field, c.reason])).toEqual([['spec.destination.ports[0].tls.mode', 'FieldValueNotSupported']]);
      expect(r.json.message.startsWith(DENIED)).toBe(true);
    });

    it('fixing it is allowed without warnings', async () => {
      const ports = structuredClone((legacy.mode.spec as any).destination.ports);
      ports[0].tls.mode = 'Simple';
      const r = await patch('legacy-mode', { spec: { destination: { ports } } });
      expect(r.status).toBe(200);
      expect(r.warnings).toEqual([]);
    });

    it('an object stored without defaults gets them at its next update', async () => {
      const r = await patch('legacy-plain', { metadata: { labels: { team: 'a' } } });
      expect(r.status).toBe(200);
      expect(r.json.spec.destination.ports).toEqual([{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.openai.com' } }]);
    });
  });

  describe('the ConfigMap webhook at kubectl apply', () => {
    const configMap = (name: string, label: string, data: Record<string, string>, namespace = SYSTEM) =>
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { [label]: 'true' } }, data });
    const SCHEMA_LABEL = 'ainetworking.prototype.x-k8s.io/extension-schema';
    const POLICY_LABEL = 'ainetworking.prototype.x-k8s.io/backend-policy';

    it('refuses a broken extension schema', async () => {
      const r = await kubectl(env(), ['apply', '-f', '-'], { input: configMap('broken-schema', SCHEMA_LABEL, { type: 'example.com/Broken:v1', 'schema.json': '{"type": "objekt"}' }) });
      expect(r.code).toBe(1);
      // kubectl prints an Invalid status from its causes (our field errors), not from its message.
      expect(oneLine(r.stderr)).toMatch(/^The ConfigMap "broken-schema" is invalid: data\[schema\.json\]: Invalid value: not a compilable schema: schema\/type must be equal to one of the allowed values/);
      expect((await kubectl(env(), ['get', 'configmap', 'broken-schema', '-n', SYSTEM])).code).toBe(1);
    });

    it('refuses a broken policy', async () => {
      const policy = ['match:', '  hosts: ["*.openai.com"]', 'overrides:', '  allowedTlsModes: { modes: [Simpel] }', ''].join('\n');
      const r = await kubectl(env(), ['apply', '-f', '-'], { input: configMap('broken-policy', POLICY_LABEL, { 'policy.yaml': policy }) });
      expect(r.code).toBe(1);
      expect((await kubectl(env(), ['get', 'configmap', 'broken-policy', '-n', SYSTEM])).code).toBe(1);
      expect(oneLine(r.stderr)).toBe('The ConfigMap "broken-policy" is invalid: data[policy.yaml]/overrides/allowedTlsModes/modes/0: Unsupported value: "Simpel": supported values: "Simple", "Mutual", "None"');
    });

    it('accepts a good schema', async () => {
      const schema = JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { level: { enum: ['full', 'none'] } } });
      const r = await kubectl(env(), ['apply', '-f', '-'], { input: configMap('audit-schema', SCHEMA_LABEL, { type: 'example.com/AuditLog:v1', 'schema.json': schema }) });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('configmap/audit-schema created');
    });
  });
});
