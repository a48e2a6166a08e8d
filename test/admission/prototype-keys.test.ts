/**
 * `__proto__` keys (and `constructor.prototype`): JSON.parse makes them plain own properties, so they
 * are only refused where the webhook judges (the object's spec and other top-level fields), with the
 * field path, and never in what it does not judge (oldObject, status, metadata), so an update that
 * removes a finalizer from an object with such a key in its status still goes through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { inject, injectServer, TOOL_FILTER_TYPE } from '../reliability/helpers.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { runOfflineValidation } from '../../src/offline/run.js';
import { parsePolicyText } from '../../src/policies/format.js';
import { openaiBackend, review } from '../support/reviews.js';

let app: App;
beforeAll(async () => {
  ({ app } = await injectServer());
});
afterAll(async () => {
  await app?.close();
});

const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();

function expectPrototypeClean(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
}

/** Inserts `insert` (JSON text of members) right after the first `"key":{` of `text`. */
function insertAfter(text: string, key: string, insert: string, occurrence = 0): string {
  const marker = `"${key}":{`;
  let at = -1;
  for (let i = 0; i <= occurrence; i++) {
    at = text.indexOf(marker, at + 1);
    if (at < 0) throw new Error(`no ${marker} #${occurrence} in the body`);
  }
  const end = at + marker.length;
  return `${text.slice(0, end)}${insert},${text.slice(end)}`;
}

const PROTO = '"__proto__":{"polluted":true}';

function updateBody(): { uid: string; text: string } {
  const object = openaiBackend();
  object.metadata.finalizers = [];
  object.status = { conditions: [{ type: 'Accepted', status: 'True' }] };
  object.metadata.managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }];
  const old = structuredClone(object);
  old.metadata.finalizers = ['example.com/cleanup'];
  const body = review(object, { operation: 'UPDATE', oldObject: old });
  return { uid: body.request.uid, text: JSON.stringify(body) };
}

describe('keys in parts the webhook does not judge never block a request', () => {
  // In the text: object comes before oldObject; each carries metadata, spec, status.
  const placements: Array<[string, (text: string) => string]> = [
    ['oldObject.status', (t) => insertAfter(t, 'status', PROTO, 1)],
    ['oldObject.spec', (t) => insertAfter(t, 'spec', PROTO, 1)],
    ['oldObject (top level)', (t) => t.replace('"oldObject":{', `"oldObject":{${PROTO},`)],
    ['object.status', (t) => insertAfter(t, 'status', PROTO, 0)],
    ['object.status and oldObject.status', (t) => insertAfter(insertAfter(t, 'status', PROTO, 1), 'status', PROTO, 0)],
    ['object.metadata', (t) => insertAfter(t, 'metadata', PROTO, 0)],
    ['object.metadata.managedFields[0].fieldsV1', (t) => insertAfter(t, 'fieldsV1', PROTO, 0)],
    ['object.metadata as constructor.prototype', (t) => insertAfter(t, 'metadata', '"constructor":{"prototype":{"polluted":true}}', 0)],
    ['the AdmissionReview envelope', (t) => `{${PROTO},${t.slice(1)}`],
    ['request', (t) => t.replace('"request":{', `"request":{${PROTO},`)],
  ];

  it.each(placements)('a __proto__ key in %s: an UPDATE removing a finalizer is allowed', async (_where, place) => {
    const { uid, text } = updateBody();
    const sent = place(text);
    expect(sent).not.toBe(text);
    const validated = await inject(app, '/validate', sent);
    expect(validated.status).toBe(200);
    expect(validated.json.response).toMatchObject({ uid, allowed: true });
    expect(validated.json.response.status).toBeUndefined();
    const mutated = await inject(app, '/mutate', sent);
    expect(mutated.json.response).toMatchObject({ uid, allowed: true });
    expectPrototypeClean();
  });
});

describe('keys in judged parts are refused with their field path', () => {
  const placements: Array<[string, (text: string) => string, string]> = [
    ['spec', (t) => insertAfter(t, 'spec', PROTO), 'spec.__proto__'],
    ['a port', (t) => t.replace('"ports":[{', `"ports":[{${PROTO},`), 'spec.destination.ports[0].__proto__'],
    ['the object (top level)', (t) => t.replace('"object":{', `"object":{${PROTO},`), '__proto__'],
    [
      'an extension rawConfig',
      (t) => t.replace('"spec":{', `"spec":{"extensions":[{"name":"x","type":"${TOOL_FILTER_TYPE}","rawConfig":{${PROTO},"categories":["search"]}}],`),
      'spec.extensions[0].rawConfig/__proto__',
    ],
    [
      'an extension rawConfig, as constructor.prototype',
      (t) => t.replace('"spec":{', `"spec":{"extensions":[{"name":"x","type":"${TOOL_FILTER_TYPE}","rawConfig":{"constructor":{"prototype":{"polluted":true}},"categories":["search"]}}],`),
      'spec.extensions[0].rawConfig/constructor/prototype',
    ],
  ];

  it.each(placements)('in %s: denied (422, Forbidden at the key), pollutes nothing', async (_where, place, field) => {
    const body = review(openaiBackend());
    const sent = place(JSON.stringify(body));
    const res = await inject(app, '/validate', sent);
    expect(res.status).toBe(200);
    const response = res.json.response;
    expect(response).toMatchObject({ uid: body.request.uid, allowed: false, status: { code: 422, reason: 'Invalid' } });
    expect(response.status.details.causes).toContainEqual(expect.objectContaining({ field, reason: 'FieldValueForbidden' }));
    // One verdict per field: not also "Unknown field" at the same path.
    expect(response.status.details.causes.filter((c: { field: string }) => c.field === field)).toHaveLength(1);
    expectPrototypeClean();
  });

  it('the same key unchanged since oldObject is ratcheted (a warning), as every other problem is', async () => {
    const body = review(openaiBackend(), { operation: 'UPDATE', oldObject: openaiBackend() });
    const text = insertAfter(insertAfter(JSON.stringify(body), 'spec', PROTO, 1), 'spec', PROTO, 0);
    const res = await inject(app, '/validate', text);
    expect(res.json.response.allowed).toBe(true);
    expect(res.json.response.warnings.join('\n')).toMatch(/unchanged, so allowed: spec\.__proto__: Forbidden/);
  });

  it('the mutating webhook still defaults (it never denies a Backend); validation denies', async () => {
    const body = review(openaiBackend());
    const res = await inject(app, '/mutate', insertAfter(JSON.stringify(body), 'spec', PROTO));
    expect(res.json.response.allowed).toBe(true);
    const patch = JSON.parse(Buffer.from(res.json.response.patch, 'base64').toString('utf8'));
    expect(patch).toEqual([{ op: 'add', path: '/spec/destination/ports/1/tls', value: { mode: 'Simple', sni: 'api.openai.com' } }]);
    expectPrototypeClean();
  });
});

describe('offline and policies', () => {
  const yaml = (extra: string): string => `apiVersion: ainetworking.prototype.x-k8s.io/v0alpha0
kind: Backend
metadata:
  name: openai
  namespace: team-a
spec:
  destination:
    type: Fqdn
    fqdn: { hostname: api.openai.com }
    ports: [{ number: 443, protocol: HTTP, tls: { mode: Simple, sni: api.openai.com } }]
${extra}`;

  const offline = (text: string) =>
    runOfflineValidation({ paths: ['-'], schemaDirs: [], validation: DEFAULT_VALIDATION_OPTIONS, strict: false, showDefaults: false }, { readStdin: async () => text });

  it('validate: a __proto__ key in status is not judged; in spec it is Forbidden on its line', async () => {
    const inStatus = await offline(yaml('status:\n  __proto__: { polluted: true }\n'));
    expect(inStatus.summary).toMatchObject({ judged: 1, valid: 1, invalid: 0 });
    const inSpec = await offline(yaml('  __proto__: { polluted: true }\n'));
    expect(inSpec.summary).toMatchObject({ judged: 1, valid: 0, invalid: 1 });
    expect(inSpec.results[0]!.errors).toEqual([expect.objectContaining({ field: 'spec.__proto__', reason: 'FieldValueForbidden', line: 11 })]);
    expectPrototypeClean();
  });

  it('a policy whose default extension carries a __proto__ key is refused at the door, with the path', () => {
    const result = parsePolicyText(
      'match: { hosts: ["*.openai.com"] }\ndefaults:\n  extensions:\n    - { name: creds, type: example.com/X, rawConfig: { __proto__: { polluted: true } } }\n',
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([expect.objectContaining({ type: 'FieldValueForbidden', field: 'data[policy.yaml]/defaults/extensions/0/rawConfig/__proto__' })]);
    expectPrototypeClean();
  });
});
