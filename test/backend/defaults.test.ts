import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { applyBuiltInDefaults, defaultBackend, defaultBackendWith, type DefaultingResult, type Operation } from '../../src/backend/defaults.js';
import { hostnameSyntaxProblem } from '../../src/backend/rules/hostnames.js';
import { formatFieldError } from '../../src/backend/field-errors.js';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from '../../src/backend/options.js';
import { JudgingFailure } from '../../src/backend/judging-failure.js';
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

// ---------------------------------------------------------------- the one-pass patch vs the reference

/** What defaultBackend returned before it stopped copying: default a JSON copy, diff with compare. */
const reference = (object: unknown) => defaultBackendWith(object, applyBuiltInDefaults);

/**
 * The expected answer, written out here without the product's defaulting code: the API server sees
 * the JSON text of the object, so read the two defaults off a JSON copy (nothing serialisable:
 * nothing to patch), in fast-json-patch compare's order (ports last to first, a port's mcp.path
 * before its tls); the defaulted paths ascending, tls first. For non-JSON input defaultBackend
 * takes the reference path, so comparing the two alone would compare that path with itself.
 */
function expectedDefaults(object: unknown): DefaultingResult {
  let copy: unknown;
  try {
    const text = JSON.stringify(object);
    if (typeof text !== 'string') return { patch: [], defaulted: [] };
    copy = JSON.parse(text);
  } catch {
    return { patch: [], defaulted: [] };
  }
  const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const own = (o: unknown, k: string): unknown => (isRecord(o) && Object.hasOwn(o, k) ? o[k] : undefined);
  const destination = own(own(copy, 'spec'), 'destination');
  const ports = own(destination, 'ports');
  if (!Array.isArray(ports)) return { patch: [], defaulted: [] };
  const host = own(own(destination, 'fqdn'), 'hostname');
  const sni = own(destination, 'type') === 'Fqdn' && typeof host === 'string' && hostnameSyntaxProblem(host) === undefined ? host : undefined;
  const patch: Operation[] = [];
  const defaulted: string[] = [];
  const needsPath = (port: unknown): boolean => isRecord(own(own(port, 'protocolOptions'), 'mcp')) && !Object.hasOwn(own(own(port, 'protocolOptions'), 'mcp') as object, 'path');
  const needsTls = (port: unknown): boolean => sni !== undefined && isRecord(port) && !Object.hasOwn(port, 'tls');
  for (let i = ports.length - 1; i >= 0; i--) {
    if (needsPath(ports[i])) patch.push({ op: 'add', path: `/spec/destination/ports/${i}/protocolOptions/mcp/path`, value: '/mcp' });
    if (needsTls(ports[i])) patch.push({ op: 'add', path: `/spec/destination/ports/${i}/tls`, value: { mode: 'Simple', sni } });
  }
  ports.forEach((port, i) => {
    if (needsTls(port)) defaulted.push(`spec.destination.ports[${i}].tls`);
    if (needsPath(port)) defaulted.push(`spec.destination.ports[${i}].protocolOptions.mcp.path`);
  });
  return { patch, defaulted };
}

/**
 * A deep read-only view of `target` that counts every attempted write instead of performing it, so
 * a test can see that defaultBackend only reads (whichever path it takes).
 */
function readOnlyView(target: unknown, writes: { count: number }): unknown {
  if (target === null || typeof target !== 'object') return target;
  return new Proxy(target, {
    get: (t, k, r) => readOnlyView(Reflect.get(t, k, r), writes),
    set: () => { writes.count++; return true; },
    defineProperty: () => { writes.count++; return true; },
    deleteProperty: () => { writes.count++; return true; },
    setPrototypeOf: () => { writes.count++; return true; },
  });
}

/** Values that are valid JSON but wrong in every position of a Backend. */
const jsonJunk = fc.oneof(
  fc.constantFrom<unknown>(null, 0, -1, 1.5, true, false, '', 'x', 'Fqdn', 'api.openai.com', [], [null], {}, { a: 1 }, { path: '/mcp' }, { tls: null }),
  fc.jsonValue({ maxDepth: 2 }),
);
const hostname = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>('api.openai.com', 'a.b', 'my-svc.svc') },
  { weight: 2, arbitrary: fc.constantFrom<unknown>('API.OpenAI.com', '10.0.0.1', 'localhost', 'a..b', '-a.com', 'x.y.', '*.example.com', 'a.b~c/d') },
  { weight: 1, arbitrary: fc.domain() },
  { weight: 1, arbitrary: jsonJunk },
);
const or = <T>(arbitrary: fc.Arbitrary<T>, junk: fc.Arbitrary<unknown>) => fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: junk });

/** Records with every key, mostly, or with any subset of them. */
const rec = <T extends Record<string, fc.Arbitrary<unknown>>>(model: T) =>
  fc.oneof({ weight: 9, arbitrary: fc.record(model) }, { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) });

/** Backend-like objects: mostly well-shaped, with junk (from `junk`) possible at every level. */
function backendLike(junk: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  // A port's tls and an mcp's path are what defaulting looks for: absent half the time.
  const mcp = or(fc.record({ version: or(fc.constant('2025-06-18'), junk), path: or(fc.constantFrom('/mcp', '/custom', ''), junk) }, { requiredKeys: ['version'] }), junk);
  const protocolOptions = or(rec({ mcp, http: junk }), junk);
  const tls = or(rec({ mode: or(fc.constantFrom('Simple', 'None', 'Mutual'), junk), sni: hostname }), junk);
  const port = or(
    fc.record({ number: or(fc.integer({ min: 1, max: 65535 }), junk), protocol: or(fc.constantFrom('HTTP', 'HTTP2', 'MCP', 'TCP'), junk), tls, protocolOptions, weight: junk }, { requiredKeys: ['number', 'protocol'] }),
    junk,
  );
  const destination = or(
    rec(
      {
        type: or(fc.constantFrom('Fqdn', 'Fqdn', 'Fqdn', 'Service', 'Ip', 'KubernetesService'), junk),
        fqdn: or(rec({ hostname }), junk),
        service: or(rec({ name: fc.constantFrom('llm', 'x'), namespace: junk }), junk),
        ip: or(rec({ address: fc.constantFrom('8.8.8.8', '10.0.0.1', '::1') }), junk),
        ports: or(fc.array(port, { maxLength: 6 }), junk),
      }),
    junk,
  );
  const spec = or(rec({ destination, extensions: junk }), junk);
  return or(
    rec({ apiVersion: fc.constant('ainetworking.prototype.x-k8s.io/v0alpha0'), kind: fc.constant('Backend'), metadata: or(rec({ name: fc.constant('openai') }), junk), spec, status: junk }),
    junk,
  );
}

/** Values JSON.stringify changes, drops, or throws on: the reference decides what they get. */
const exoticJunk = fc.oneof(
  jsonJunk,
  fc.constantFrom<() => unknown>(
    () => undefined,
    () => () => 1,
    () => Symbol('s'),
    () => BigInt(1),
    () => NaN,
    () => -Infinity,
    () => new Date(0),
    () => new Map([['tls', 1]]),
    () => new Set([1]),
    () => new String('Fqdn'),
    () => new String('api.openai.com'),
    () => new Number(1),
    () => new Uint8Array([1, 2]),
    () => Object.create(null) as unknown,
    () => Object.assign(Object.create(null) as object, { path: '/x', tls: { mode: 'None' } }),
    () => Object.create({ tls: { mode: 'None' }, path: '/x' }) as unknown,
    () => ({ toJSON: () => ({ number: 443 }) }),
    () => ({ toJSON: () => ({ hostname: 'api.openai.com' }) }),
    () => ({ toJSON: () => undefined }),
    () => Object.assign(() => 1, { toJSON: () => ({ mcp: {} }) }),
    () => Object.defineProperty({ number: 443 }, 'tls', { value: { mode: 'None' }, enumerable: false }),
    () => Object.defineProperty({}, 'tls', { get: () => { throw new Error('getter'); }, enumerable: true }),
    () => [, { number: 443 }], // eslint-disable-line no-sparse-arrays
  ).map((make) => make()),
);

describe('defaultBackend against the reference (copy, default, compare)', () => {
  const check = (object: unknown) => {
    const writes = { count: 0 };
    // Compared with the reference on the same view: a proxied Date or Map no longer serializes.
    const view = readOnlyView(object, writes);
    expect(defaultBackend(view)).toEqual(reference(view));
    expect(writes.count).toBe(0);
    expect(defaultBackend(view), 'the read-only view').toEqual(expectedDefaults(view));
    const result = defaultBackend(object);
    expect(result).toEqual(reference(object));
    expect(result, 'as read off the JSON the API server sent').toEqual(expectedDefaults(object));
    return result;
  };

  it('emits operations in compare order: ports last to first, a port mcp.path before its tls', () => {
    const object = fqdnBackend([
      { number: 1, protocol: 'MCP', protocolOptions: { mcp: {} } },
      { number: 2, protocol: 'HTTP' },
      { number: 3, protocol: 'MCP', tls: { mode: 'None' }, protocolOptions: { mcp: { version: '2025-06-18' } } },
      { number: 4, protocol: 'MCP', protocolOptions: { mcp: {} } },
    ]);
    const tls = (i: number): Operation => ({ op: 'add', path: `/spec/destination/ports/${i}/tls`, value: { mode: 'Simple', sni: 'api.openai.com' } });
    const path = (i: number): Operation => ({ op: 'add', path: `/spec/destination/ports/${i}/protocolOptions/mcp/path`, value: '/mcp' });
    const result = check(object);
    expect(result.patch).toEqual([path(3), tls(3), path(2), tls(1), path(0), tls(0)]);
    expect(result.defaulted).toEqual([
      'spec.destination.ports[0].tls',
      'spec.destination.ports[0].protocolOptions.mcp.path',
      'spec.destination.ports[1].tls',
      'spec.destination.ports[2].protocolOptions.mcp.path',
      'spec.destination.ports[3].tls',
      'spec.destination.ports[3].protocolOptions.mcp.path',
    ]);
  });

  it('returns fresh values: never the input, never shared between calls', () => {
    const object = fqdnBackend([{ number: 443, protocol: 'MCP', protocolOptions: { mcp: {} } }]);
    const text = JSON.stringify(object);
    const first = defaultBackend(object);
    (first.patch[1] as { value: { sni: string } }).value.sni = 'changed';
    first.patch.push({ op: 'remove', path: '/kind' });
    first.defaulted.push('x');
    const second = defaultBackend(object);
    expect(second).toEqual(reference(object));
    expect(second.patch[1]).toEqual({ op: 'add', path: '/spec/destination/ports/0/tls', value: { mode: 'Simple', sni: 'api.openai.com' } });
    expect(JSON.stringify(object)).toBe(text);
    const empty = defaultBackend(makeBackend({ destination: 'none' }));
    empty.patch.push({ op: 'remove', path: '/kind' });
    expect(defaultBackend(makeBackend({ destination: 'none' }))).toEqual({ patch: [], defaulted: [] });
  });

  it('agrees on what JSON drops, changes or refuses, and on cyclic and very deep objects', () => {
    const port = (extra: Record<string, unknown>) => fqdnBackend([{ number: 443, protocol: 'MCP', protocolOptions: { mcp: {} }, ...extra }]);
    const cyclic = port({}) as Record<string, unknown>;
    cyclic['self'] = cyclic;
    let deep: unknown = 'deep';
    for (let i = 0; i < 1_000; i++) deep = { a: deep };
    const objects: unknown[] = [
      port({ tls: undefined }),
      port({ tls: () => 1 }),
      port({ tls: Symbol('tls') }),
      port({ tls: { toJSON: () => undefined } }),
      fqdnBackend([Object.defineProperty({ number: 443, protocol: 'HTTP' }, 'tls', { value: { mode: 'None' }, enumerable: false })]),
      fqdnBackend([{ number: 443, protocol: 'MCP', tls: null, protocolOptions: { mcp: Object.defineProperty({}, 'path', { value: '/x', enumerable: false }) } }]),
      port({ extra: BigInt(1) }),
      port({ when: new Date(0) }),
      { ...port({}), metadata: deep },
      cyclic,
      { ...port({}), toJSON: () => ({ kind: 'Other' }) },
      new Date(0),
      [port({})],
      'text',
      undefined,
      JSON.parse('{"__proto__":{"spec":1},"spec":{"destination":{"type":"Fqdn","fqdn":{"hostname":"a.example.com"},"ports":[{"__proto__":{"tls":1}}]}}}'),
    ];
    for (const object of objects) check(object);
    // Not everything ends empty: the first gets both defaults, and so does the deep one.
    expect(defaultBackend(objects[0]).patch).toHaveLength(2);
    expect(defaultBackend(objects[8]).patch).toHaveLength(2);
  });

  it('on thousands of Backend-like objects (property)', () => {
    fc.assert(
      fc.property(backendLike(jsonJunk), (object) => {
        const text = JSON.stringify(object);
        const { patch, defaulted } = check(object);
        expect(JSON.stringify(object)).toBe(text);
        expect(patch).toHaveLength(defaulted.length);
        if (patch.length > 0) expect(defaultBackend(applied(object, patch))).toEqual({ patch: [], defaulted: [] });
      }),
      { numRuns: 4000, seed: 20260801 },
    );
  });

  it('on Backend-like objects holding values JSON does not round-trip (property)', () => {
    fc.assert(
      fc.property(backendLike(exoticJunk), (object) => {
        check(object);
      }),
      { numRuns: 2000, seed: 20260802 },
    );
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
      () => validateBackend({ object: FULL, operation: 'CREATE' }, EXTENSION_SCHEMAS, null as never),
      () => validateBackend({ object: FULL, operation: 'DELETE' }, EXTENSION_SCHEMAS, { clusterDomain: 7, extraDeniedCidrs: ['nonsense', 3], mcpVersions: 'all', unknownExtensionPolicy: 'maybe' } as never),
      () => defaultBackend(undefined),
      () => defaultBackend(() => 1),
      () => defaultBackend(BigInt(1)),
    ];
    for (const call of calls) expect(call).not.toThrow();
    // A registry that throws is our failure, not "no schema": the one typed throw, for the caller to
    // fail closed on (code 500, counted, logged: test/admission/judging-failure.test.ts).
    expect(() => validateBackend({ object: FULL, operation: 'CREATE' }, throwing, DEFAULT_VALIDATION_OPTIONS)).toThrow(JudgingFailure);
    expect(() => validateBackend({ object: FULL, operation: 'CREATE' }, null as never, null as never)).toThrow(JudgingFailure);
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
