import { describe, expect, it } from 'vitest';
import { formatFieldError, type FieldError } from '../../src/backend/field-errors.js';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from '../../src/backend/options.js';
import { validateBackend } from '../../src/backend/validate.js';
import { EMPTY_LOOKUP } from '../../src/schemas/registry.js';
import { BACKEND_CASES, EXTENSION_SCHEMAS, makeBackend, type BackendCase } from './cases.js';

const optionsOf = (c: BackendCase): ValidationOptions => ({ ...DEFAULT_VALIDATION_OPTIONS, ...(c.options ?? {}) });
const run = (c: BackendCase, object: unknown = c.object, oldObject: unknown = c.oldObject) =>
  validateBackend({ object, oldObject, operation: c.operation ?? 'CREATE' }, EXTENSION_SCHEMAS, optionsOf(c));
const byFieldAndType = (a: { field: string; type: string }, b: { field: string; type: string }): number =>
  a.field.localeCompare(b.field) || a.type.localeCompare(b.type);

/** The same JSON with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
}

/** Phrases of ajv's built-in messages: none may reach a user unconverted. */
const AJV_PHRASES = [/must NOT/, /must have required property/, /must be equal to one of/, /must match format/, /must be (<=|>=)/];

describe('the rules table through validateBackend', () => {
  it('covers valid and invalid objects', () => {
    expect(BACKEND_CASES.filter((c) => c.expectErrors.length === 0).length).toBeGreaterThan(30);
    expect(BACKEND_CASES.filter((c) => c.expectErrors.length > 0).length).toBeGreaterThan(100);
    expect(new Set(BACKEND_CASES.map((c) => c.name)).size).toBe(BACKEND_CASES.length);
  });

  for (const c of BACKEND_CASES) {
    it(c.name, () => {
      const result = run(c);
      const actual = result.errors.map((x) => ({ field: x.field, type: x.type })).sort(byFieldAndType);
      expect(actual).toEqual([...c.expectErrors].sort(byFieldAndType));

      const patterns = c.expectWarnings ?? [];
      expect(result.warnings).toHaveLength(patterns.length);
      for (const pattern of patterns) expect(result.warnings).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
      for (const w of result.warnings) {
        expect(w.length).toBeLessThan(120);
        expect(w).not.toMatch(/[\u0000-\u001f\u007f]/);
      }

      for (const error of result.errors) {
        const line = formatFieldError(error);
        for (const phrase of AJV_PHRASES) expect(line).not.toMatch(phrase);
      }

      // Key order never changes the verdict or its order.
      const reordered = run(c, reverseKeys(c.object), c.oldObject === undefined ? undefined : reverseKeys(c.oldObject));
      expect(reordered).toEqual(result);
    });
  }
});

const fqdnBackend = (hostname: string) => makeBackend({ destination: { type: 'Fqdn', fqdn: { hostname }, ports: [{ number: 443, protocol: 'HTTP' }] } });
const validate = (object: unknown, options: Partial<ValidationOptions> = {}) =>
  validateBackend({ object, operation: 'CREATE' }, EXTENSION_SCHEMAS, { ...DEFAULT_VALIDATION_OPTIONS, ...options });
const lines = (errors: FieldError[]): string[] => errors.map(formatFieldError);

describe('error messages', () => {
  it('renders the Kubernetes way, sorted by path with indexes in numeric order', () => {
    const ports = Array.from({ length: 12 }, (_, i) => ({ number: i === 11 ? 443 : 1000 + i, protocol: 'HTTP' }));
    ports[2] = { number: 443, protocol: 'HTTP' };
    ports[10] = { number: 0, protocol: 'HTTP' };
    const result = validate(makeBackend({ destination: { type: 'Ip', ip: { address: '8.8.8.8' }, ports } }));
    expect(lines(result.errors)).toEqual([
      'spec.destination.ports[10].number: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.destination.ports[11].number: Duplicate value: 443',
    ]);
  });

  it('names unknown fields, and the core protocols for an unknown protocol', () => {
    const result = validate(makeBackend({ timeout: '5s', destination: { type: 'Ip', ip: { address: '8.8.8.8' }, ports: [{ number: 1, protocol: 'UDP' }] } }));
    expect(lines(result.errors)).toEqual([
      'spec.destination.ports[0].protocol: Unsupported value: "UDP": supported values: "HTTP", "HTTP2", "TCP", "MCP"; or a vendor protocol <dns-subdomain>/<name>, e.g. istio.io/a2a',
      'spec.timeout: Unknown field',
    ]);
  });

  it('gives each refused TLS spelling its hint', () => {
    const hints: Record<string, RegExp> = {
      SIMPLE: /use "Simple"/,
      MUTUAL: /use "Mutual"/,
      InsecureDisable: /use "None"/,
      PlatformProvided: /use "None"/,
      Passthrough: /Gateway listener/,
      ServerOnly: /XBackend.*"Simple"/,
      ClientAndServer: /XBackend.*"Mutual"/,
    };
    for (const [mode, hint] of Object.entries(hints)) {
      const tls = { mode };
      const result = validate(makeBackend({ destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 443, protocol: 'HTTP', tls }] } }));
      expect(lines(result.errors)).toHaveLength(1);
      expect(lines(result.errors)[0]).toMatch(/^spec\.destination\.ports\[0\]\.tls\.mode: Unsupported value: .*supported values: "Simple", "Mutual", "None"/);
      expect(lines(result.errors)[0]).toMatch(hint);
    }
  });

  it('explains why a hostname or an address is refused', () => {
    expect(lines(validate(fqdnBackend('llm.models.svc.cluster.local')).errors)[0]).toMatch(/cluster-internal.*use type Service/);
    expect(lines(validate(fqdnBackend('api.corp.example'), { clusterDomain: 'corp.example' }).errors)[0]).toMatch(/cluster-internal/);
    expect(lines(validate(fqdnBackend('10.0.0.010')).errors)[0]).toMatch(/resolves as an IP address \(10\.0\.0\.8\)/);
    expect(lines(validate(fqdnBackend('1.2.3.4.5')).errors)[0]).toMatch(/last label is all digits/);
    const ip = (address: string) => makeBackend({ destination: { type: 'Ip', ip: { address }, ports: [{ number: 80, protocol: 'HTTP' }] } });
    expect(lines(validate(ip('::ffff:169.254.169.254')).errors)).toEqual([
      'spec.destination.ip.address: Invalid value: "::ffff:169.254.169.254": is in the refused range 169.254.0.0/16 (link-local, incl. the cloud metadata address)',
    ]);
    expect(lines(validate(ip('2001:db8:0:0::1')).errors)[0]).toMatch(/canonical form: 2001:db8::1$/);
  });

  it('lists the accepted MCP revisions from the options', () => {
    const object = makeBackend({ destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 80, protocol: 'MCP', protocolOptions: { mcp: { version: '2025-01-01' } } }] } });
    expect(lines(validate(object, { mcpVersions: ['2025-06-18', '2025-11-25'] }).errors)).toEqual([
      'spec.destination.ports[0].protocolOptions.mcp.version: Unsupported value: "2025-01-01": supported values: "2025-06-18", "2025-11-25"',
    ]);
  });

  it('reports extension config problems with the JSON pointer and what is missing', () => {
    const object = makeBackend({
      destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 80, protocol: 'HTTP' }] },
      extensions: [{ name: 'inject', type: 'gateway.networking.k8s.io/CredentialInjector:v1', rawConfig: { header: 1 } }],
    });
    expect(lines(validate(object).errors)).toEqual([
      'spec.extensions[0].rawConfig: Required value: must have the property "secretRef"',
      'spec.extensions[0].rawConfig/header: Invalid value: 1: must be of type string',
    ]);
  });

  it('shows bounded bad values, never a megabyte of input', () => {
    const huge = 'x'.repeat(1_000_000);
    const object = makeBackend({ destination: { type: 'Ip', ip: { address: '8.8.8.8' }, ports: [{ number: huge, protocol: 'HTTP' }] } });
    const [line] = lines(validate(object).errors);
    expect(line).toMatch(/^spec\.destination\.ports\[0\]\.number: Invalid value: "x+\.\.\.\(truncated\): must be of type integer$/);
    expect(line!.length).toBeLessThan(400);
  });

  it('quotes odd unknown keys so they cannot forge lines', () => {
    const object = makeBackend({ destination: { type: 'Ip', ip: { address: '8.8.8.8' }, ports: [{ number: 1, protocol: 'HTTP' }] }, 'a\nb': 1 });
    expect(lines(validate(object).errors)).toEqual(['spec["a\\nb"]: Unknown field']);
  });
});

describe('warnings', () => {
  it('for an unknown extension type under the warn policy stays short even for a long type', () => {
    const type = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com/VeryLongExtensionKindName:v12345`;
    const object = makeBackend({ destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 80, protocol: 'HTTP' }] }, extensions: [{ name: 'x', type }] });
    const result = validate(object, { unknownExtensionPolicy: 'warn' });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual(['spec.extensions[0].type: no schema registered for this type; rawConfig not validated']);
  });

  it('is given once per port that sends plaintext to an Fqdn', () => {
    const ports = [80, 8080].map((number) => ({ number, protocol: 'HTTP', tls: { mode: 'None' } }));
    const result = validate(makeBackend({ destination: { type: 'Fqdn', fqdn: { hostname: 'api.example.com' }, ports } }));
    expect(result.warnings).toEqual([
      'spec.destination.ports[0].tls.mode: None sends plaintext to an external (Fqdn) destination',
      'spec.destination.ports[1].tls.mode: None sends plaintext to an external (Fqdn) destination',
    ]);
  });
});

describe('ratcheting', () => {
  const broken = makeBackend({ destination: { type: 'Ip', ip: { address: '127.0.0.1' }, ports: [{ number: 80, protocol: 'HTTP' }] }, timeout: 1 });

  it('moves problems in unchanged values to ratcheted and says them as warnings', () => {
    const updated = { ...broken, metadata: { name: 'openai', namespace: 'team-a', labels: { new: 'label' } } };
    const result = validateBackend({ object: updated, oldObject: broken, operation: 'UPDATE' }, EMPTY_LOOKUP, DEFAULT_VALIDATION_OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.ratcheted.map(formatFieldError)).toEqual([
      'spec.destination.ip.address: Invalid value: "127.0.0.1": is in the refused range 127.0.0.0/8 (loopback)',
      'spec.timeout: Unknown field',
    ]);
    expect(result.warnings).toEqual([
      'unchanged, so allowed: spec.destination.ip.address: Invalid value: "127.0.0.1": is in the refused range 127.0.0.0/8 ...',
      'unchanged, so allowed: spec.timeout: Unknown field',
    ]);
  });

  it('ignores key order when comparing with the old object', () => {
    const result = validateBackend({ object: reverseKeys(broken), oldObject: broken, operation: 'UPDATE' }, EMPTY_LOOKUP, DEFAULT_VALIDATION_OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.ratcheted).toHaveLength(2);
  });

  it('judges an old object that is not an object as absent', () => {
    for (const oldObject of [null, 'x', [broken], 3]) {
      const result = validateBackend({ object: broken, oldObject, operation: 'UPDATE' }, EMPTY_LOOKUP, DEFAULT_VALIDATION_OPTIONS);
      expect(result.errors).toHaveLength(2);
      expect(result.ratcheted).toEqual([]);
    }
  });
});
