import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { defaultBackend, type Operation } from '../../src/backend/defaults.js';
import { formatFieldError } from '../../src/backend/field-errors.js';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from '../../src/backend/options.js';
import { validateBackend } from '../../src/backend/validate.js';
import { BACKEND_CASES, CREDENTIAL_INJECTOR, EXTENSION_SCHEMAS, makeBackend } from './cases.js';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Applies `patch` the way the API server does: to a copy, refusing operations that do not apply. */
function applied(object: unknown, patch: Operation[]): unknown {
  return jsonPatch.applyPatch(clone(object), patch, true, false).newDocument;
}

const validate = (object: unknown, options: Partial<ValidationOptions> = {}) =>
  validateBackend({ object, operation: 'CREATE' }, EXTENSION_SCHEMAS, { ...DEFAULT_VALIDATION_OPTIONS, ...options });

const fqdnBackend = (ports: unknown[], hostname: unknown = 'api.openai.com') => makeBackend({ destination: { type: 'Fqdn', fqdn: { hostname }, ports } });

describe('defaultBackend', () => {
  it('gives every Fqdn port without tls Simple TLS with the hostname as SNI', () => {
    const object = fqdnBackend([{ number: 443, protocol: 'HTTP' }, { number: 80, protocol: 'HTTP', tls: { mode: 'None' } }, { number: 8443, protocol: 'HTTP2' }]);
    const { patch, defaulted } = defaultBackend(object);
    expect(patch).toHaveLength(2);
    expect(patch).toEqual(
      expect.arrayContaining([
        { op: 'add', path: '/spec/destination/ports/0/tls', value: { mode: 'Simple', sni: 'api.openai.com' } },
        { op: 'add', path: '/spec/destination/ports/2/tls', value: { mode: 'Simple', sni: 'api.openai.com' } },
      ]),
    );
    expect(defaulted).toEqual(['spec.destination.ports[0].tls', 'spec.destination.ports[2].tls']);
    const result = applied(object, patch) as { spec: { destination: { ports: Array<{ tls: unknown }> } } };
    expect(result.spec.destination.ports[1]!.tls).toEqual({ mode: 'None' });
  });

  it('defaults mcp.path to /mcp whatever the destination type', () => {
    const object = makeBackend({ destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 80, protocol: 'MCP', protocolOptions: { mcp: { version: '2025-06-18' } } }] } });
    const { patch, defaulted } = defaultBackend(object);
    expect(patch).toEqual([{ op: 'add', path: '/spec/destination/ports/0/protocolOptions/mcp/path', value: '/mcp' }]);
    expect(defaulted).toEqual(['spec.destination.ports[0].protocolOptions.mcp.path']);
  });

  it('never touches a set field', () => {
    const untouched = [
      fqdnBackend([{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple' } }]), // no sni added to a user's tls
      fqdnBackend([{ number: 443, protocol: 'HTTP', tls: null }]),
      fqdnBackend([{ number: 443, protocol: 'MCP', tls: { mode: 'None' }, protocolOptions: { mcp: { path: '/custom' } } }]),
      fqdnBackend([{ number: 443, protocol: 'MCP', tls: { mode: 'None' }, protocolOptions: { mcp: { path: null } } }]),
      makeBackend({ destination: { type: 'Ip', ip: { address: '8.8.8.8' }, ports: [{ number: 443, protocol: 'HTTP' }] } }),
      makeBackend({ destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 443, protocol: 'HTTP' }] } }),
    ];
    for (const object of untouched) expect(defaultBackend(object)).toEqual({ patch: [], defaulted: [] });
  });

  it('leaves parts too broken to default alone', () => {
    const broken: unknown[] = [
      makeBackend({ destination: 'Fqdn' }),
      makeBackend({ destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: { 0: { number: 1 } } } }),
      makeBackend({ destination: { type: 'Fqdn', fqdn: {}, ports: [{ number: 443, protocol: 'HTTP' }] } }),
      fqdnBackend([{ number: 443, protocol: 'HTTP' }], 42),
      fqdnBackend([{ number: 443, protocol: 'HTTP' }], 'API.OpenAI.com'), // would only add an invalid sni
      fqdnBackend([{ number: 443, protocol: 'HTTP' }], '10.0.0.1'),
      makeBackend({ destination: { type: 'Fqdn', fqdn: 'api.openai.com', ports: [{ number: 443 }] } }),
      fqdnBackend(['https', null, 7, [{ number: 1 }]]),
      fqdnBackend([{ number: 443, protocol: 'MCP', tls: { mode: 'None' }, protocolOptions: { mcp: 'default' } }]),
      fqdnBackend([{ number: 443, protocol: 'MCP', tls: { mode: 'None' }, protocolOptions: 'mcp' }]),
    ];
    for (const object of broken) expect(defaultBackend(object)).toEqual({ patch: [], defaulted: [] });
  });

  it('defaults the healthy ports of a list that has broken ones', () => {
    const { patch } = defaultBackend(fqdnBackend(['https', { number: 443, protocol: 'HTTP' }]));
    expect(patch).toEqual([{ op: 'add', path: '/spec/destination/ports/1/tls', value: { mode: 'Simple', sni: 'api.openai.com' } }]);
  });

  it('patches the object as sent even when it carries __proto__ keys', () => {
    const object = JSON.parse('{"kind":"Backend","__proto__":{"polluted":true},"spec":{"destination":{"type":"Fqdn","fqdn":{"hostname":"api.openai.com"},"ports":[{"number":443,"protocol":"HTTP"}]}}}') as unknown;
    const { patch } = defaultBackend(object);
    expect(patch).toEqual([{ op: 'add', path: '/spec/destination/ports/0/tls', value: { mode: 'Simple', sni: 'api.openai.com' } }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  describe('on every object of the rules table', () => {
    for (const c of BACKEND_CASES) {
      it(c.name, () => {
        const { patch, defaulted } = defaultBackend(c.object);
        expect(patch.every((op) => op.op === 'add')).toBe(true);
        expect(patch).toHaveLength(defaulted.length);
        const patched = applied(c.object, patch);
        // Idempotent: a second pass (reinvocationPolicy: IfNeeded) changes nothing.
        expect(defaultBackend(patched)).toEqual({ patch: [], defaulted: [] });
        // Defaulting never creates a problem the object did not have.
        const fields = (o: unknown) => validate(o, c.options).errors.map((e) => `${e.field} ${e.type}`);
        expect(fields(patched)).toEqual(fields(c.object));
      });
    }
  });
});

describe('error rendering', () => {
  it('renders a duplicate port the way kubectl shows it', () => {
    const object = makeBackend({ destination: { type: 'Ip', ip: { address: '8.8.8.8' }, ports: [{ number: 443, protocol: 'HTTP' }, { number: 443, protocol: 'TCP' }] } });
    expect(validate(object).errors.map(formatFieldError)).toEqual(['spec.destination.ports[1].number: Duplicate value: 443']);
  });

  it('renders required, forbidden and unknown fields without values', () => {
    const object = makeBackend({ destination: { type: 'Fqdn', ip: { address: '8.8.8.8' }, ports: [{ number: 443, protocol: 'HTTP', weight: 2 }] } });
    expect(validate(object).errors.map(formatFieldError)).toEqual([
      'spec.destination.fqdn: Required value: required when type is Fqdn',
      'spec.destination.ip: Forbidden: must not be set when type is Fqdn',
      'spec.destination.ports[0].weight: Unknown field',
    ]);
  });
});

// ---------------------------------------------------------------- garbage in, answers out

const GARBAGE: unknown[] = [null, undefined, [], [null], {}, '', 'x', 0, -1, 1.5, NaN, true, false, { __proto__: null }, [[[]]], { a: { b: null } }];

/** A Backend using every field, so that replacing any one value reaches every rule. */
const FULL = makeBackend({
  destination: {
    type: 'Fqdn',
    fqdn: { hostname: 'api.openai.com' },
    ip: { address: '8.8.8.8' },
    service: { name: 'llm', namespace: 'models' },
    ports: [
      {
        number: 443,
        protocol: 'MCP',
        protocolOptions: { mcp: { version: '2025-06-18', path: '/mcp' } },
        tls: {
          mode: 'Mutual',
          sni: 'api.openai.com',
          caBundleRef: [{ group: 'certificates.k8s.io', kind: 'ClusterTrustBundle', name: 'b' }, { group: '', kind: 'ConfigMap', name: 'ca', namespace: 'pki' }],
          clientCertificateRef: { group: '', kind: 'Secret', name: 'c', namespace: 'pki' },
          insecureSkipVerify: true,
          subjectAltNames: ['a.example.com', 'spiffe://x/y'],
        },
      },
      { number: 80, protocol: 'HTTP' },
    ],
  },
  extensions: [
    { name: 'inject', type: CREDENTIAL_INJECTOR, rawConfig: { secretRef: { name: 'k' }, header: 'h' } },
    { name: 'other', type: 'example.com/Other', rawConfig: { a: [1, { b: 2 }] } },
  ],
}, { status: { x: 1 } });

/** Every path in a JSON value, root included. */
function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}

function replaced(root: unknown, at: Array<string | number>, value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = clone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[at[at.length - 1]!] = value;
  return copy;
}

function expectWellFormed(object: unknown, oldObject?: unknown): void {
  for (const operation of ['CREATE', 'UPDATE']) {
    const result = validateBackend({ object, oldObject, operation }, EXTENSION_SCHEMAS, DEFAULT_VALIDATION_OPTIONS);
    expect(Array.isArray(result.errors)).toBe(true);
    for (const e of result.errors) expect(typeof formatFieldError(e)).toBe('string');
    for (const w of result.warnings) expect(w.length).toBeLessThan(120);
  }
  const { patch } = defaultBackend(object);
  if (patch.length > 0) expect(defaultBackend(applied(object, patch)).patch).toEqual([]);
}

describe('never throws', () => {
  it('on garbage in every position of a full Backend, as object and as old object', () => {
    const all = paths(FULL);
    expect(all.length).toBeGreaterThan(60);
    for (const at of all) {
      for (const g of GARBAGE) {
        const object = replaced(FULL, at, g);
        expect(() => expectWellFormed(object, FULL)).not.toThrow();
        expect(() => expectWellFormed(FULL, object)).not.toThrow();
      }
    }
  });

  it('on a garbage input, schema lookup or options', () => {
    const throwing = { get: () => { throw new Error('registry down'); } };
    const calls: Array<() => unknown> = [
      () => validateBackend(null as never, EXTENSION_SCHEMAS, DEFAULT_VALIDATION_OPTIONS),
      () => validateBackend({ object: FULL, operation: 'CREATE' }, throwing, DEFAULT_VALIDATION_OPTIONS),
      () => validateBackend({ object: FULL, operation: 'CREATE' }, null as never, null as never),
      () => validateBackend({ object: FULL, operation: 'DELETE' }, EXTENSION_SCHEMAS, { clusterDomain: 7, extraDeniedCidrs: ['nonsense', 3], mcpVersions: 'all', unknownExtensionPolicy: 'maybe' } as never),
      () => defaultBackend(undefined),
      () => defaultBackend(() => 1),
      () => defaultBackend(BigInt(1)),
    ];
    for (const call of calls) expect(call).not.toThrow();
    const denied = validateBackend({ object: FULL, operation: 'CREATE' }, throwing, DEFAULT_VALIDATION_OPTIONS);
    expect(denied.errors.map((e) => `${e.field} ${e.type}`)).toContain('spec.extensions[0].type FieldValueNotSupported');
  });

  it('on a cyclic object and on a depth bomb', () => {
    const cyclic = clone(FULL) as Record<string, unknown>;
    (cyclic['spec'] as Record<string, unknown>)['self'] = cyclic;
    expect(defaultBackend(cyclic)).toEqual({ patch: [], defaulted: [] });
    expect(validate(cyclic).errors.length).toBeGreaterThan(0);

    let bomb: unknown = 'deep';
    for (let i = 0; i < 100_000; i++) bomb = [bomb];
    const deep = clone(FULL) as { spec: { extensions: Array<{ rawConfig: unknown }> }; extra?: unknown };
    deep.spec.extensions[1]!.rawConfig = { a: bomb };
    deep.extra = bomb;
    expect(() => validateBackend({ object: deep, oldObject: deep, operation: 'UPDATE' }, EXTENSION_SCHEMAS, DEFAULT_VALIDATION_OPTIONS)).not.toThrow();
    expect(() => defaultBackend(deep)).not.toThrow();
  });

  it('on arbitrary JSON anywhere in the spec (property)', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    const spec = fc.record(
      {
        destination: fc.oneof(json, fc.record({ type: fc.oneof(fc.constantFrom('Fqdn', 'Ip', 'Service', 'KubernetesService'), json), fqdn: json, ip: json, service: json, ports: fc.oneof(json, fc.array(fc.oneof(json, fc.record({ number: json, protocol: json, tls: json, protocolOptions: json }, { requiredKeys: [] })), { maxLength: 4 })) }, { requiredKeys: [] })),
        extensions: fc.oneof(json, fc.array(fc.record({ name: json, type: fc.oneof(json, fc.constant(CREDENTIAL_INJECTOR)), rawConfig: json }, { requiredKeys: [] }), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(spec, fc.option(spec), (s, old) => {
        expectWellFormed(makeBackend(s), old === null ? undefined : makeBackend(old));
        const once = validate(makeBackend(s));
        expect(validate(makeBackend(s))).toEqual(once);
      }),
      { numRuns: 300, seed: 20260728 },
    );
  });
});
