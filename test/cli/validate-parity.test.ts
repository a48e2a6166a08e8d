/**
 * The offline CLI and the HTTPS server reach the same verdicts for the same objects: the rules
 * table (every rule of the spec) is written as manifests, judged by the built CLI (`-o json`) and
 * POSTed to a real server's /validate, both holding the same extension-schema ConfigMaps; allowed,
 * every cause (field, reason, message) and every warning must agree, per object, for several sets
 * of server flags.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parseAllDocuments, stringify } from 'yaml';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from '../../src/backend/options.js';
import { EXTENSION_SCHEMA_SELECTOR } from '../../src/schemas/configmap.js';
import { ExtensionSchemaRegistry } from '../../src/schemas/extension-registry.js';
import { FileConfigMapSource } from '../../src/schemas/file-source.js';
import { BACKEND_CASES, type BackendCase } from '../backend/cases.js';
import { review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { ensureBuilt, FIXTURES, ROOT, runValidate } from './validate-cli.js';

const SCHEMAS = path.join(ROOT, FIXTURES, 'parity', 'schemas.yaml');

/** Server flags as the CLI spells them; undefined when an option cannot be given on the command line. */
function flagsFor(options: Partial<ValidationOptions>): string[] | undefined {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === 'clusterDomain') flags.push('--cluster-domain', String(value));
    else if (key === 'unknownExtensionPolicy') flags.push('--unknown-extension-policy', String(value));
    else if (key === 'extraDeniedCidrs' && Array.isArray(value)) for (const v of value) flags.push('--denied-cidr', String(v));
    else if (key === 'mcpVersions' && Array.isArray(value) && value.length > 0) for (const v of value) flags.push('--mcp-version', String(v));
    else if (key === 'internalDomains' && Array.isArray(value)) {
      if (value.length === 0) flags.push('--internal-domain', '');
      for (const v of value) flags.push('--internal-domain', String(v));
    }
    else return undefined;
  }
  return flags;
}

interface Group {
  options: Partial<ValidationOptions>;
  cases: BackendCase[];
}

/** CREATE cases grouped by their server options, plus the whole table under non-default flags. */
function groups(): Group[] {
  const creates = BACKEND_CASES.filter((c) => (c.operation ?? 'CREATE') === 'CREATE');
  const byOptions = new Map<string, Group>();
  for (const c of creates) {
    const key = JSON.stringify(c.options ?? {});
    if (!byOptions.has(key)) byOptions.set(key, { options: c.options ?? {}, cases: [] });
    byOptions.get(key)!.cases.push(c);
  }
  const all = [...byOptions.values()];
  all.push({ options: { clusterDomain: 'corp.internal', internalDomains: ['example.com', 'clusterset.local'], extraDeniedCidrs: ['8.8.8.0/24', '2001:db8::/32'], unknownExtensionPolicy: 'warn' }, cases: creates.filter((c) => !c.options) });
  return all.filter((g) => flagsFor(g.options) !== undefined);
}

let tmp: string;
let registry: ExtensionSchemaRegistry;
const servers: TestServer[] = [];

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'validate-parity-'));
  // The server's registry reads the very file the CLI gets in its input, through the server's file source.
  registry = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }) });
  await registry.start([new FileConfigMapSource({ paths: [SCHEMAS], labelSelector: EXTENSION_SCHEMA_SELECTOR })]);
  expect(registry.list().map((r) => [r.type, r.compiled])).toEqual([
    ['gateway.networking.k8s.io/CredentialInjector:v1', true],
    ['guardrails.example.com/ContentFilter', true],
  ]);
}, 300_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await registry?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('CLI and HTTPS server verdicts', () => {
  const all = groups();

  it('cover the table: valid and invalid objects, warnings, and flag sets besides the defaults', () => {
    const cases = all.flatMap((g) => g.cases);
    expect(cases.filter((c) => c.expectErrors.length === 0).length).toBeGreaterThan(5);
    expect(cases.filter((c) => c.expectErrors.length > 0).length).toBeGreaterThan(30);
    expect(cases.filter((c) => (c.expectWarnings ?? []).length > 0).length).toBeGreaterThan(2);
    expect(all.length).toBeGreaterThan(2);
  });

  all.forEach((group, g) => {
    const flags = flagsFor(group.options)!;
    it(`agree on ${group.cases.length} objects with flags [${flags.join(' ')}]`, async () => {
      const file = path.join(tmp, `cases-${g}.yaml`);
      const text = group.cases.map((c) => stringify(c.object)).join('---\n');
      writeFileSync(file, text);
      // The manifests are the table's objects exactly (nothing lost in the YAML round trip).
      expect(parseAllDocuments(text).map((d) => (d as { toJS(): unknown }).toJS())).toEqual(group.cases.map((c) => c.object));

      const run = await runValidate(['-o', 'json', ...flags, file, SCHEMAS]);
      expect([0, 1]).toContain(run.code);
      const report = JSON.parse(run.stdout);
      const cli = report.results.filter((r: any) => r.file === file.split(path.sep).join('/'));
      expect(cli).toHaveLength(group.cases.length);

      const server = await startTestServer({ registry, validation: { ...DEFAULT_VALIDATION_OPTIONS, ...group.options } });
      servers.push(server);
      let denied = 0;
      for (const [i, c] of group.cases.entries()) {
        const res = await server.client.postJson('/validate', review(c.object));
        expect(res.status).toBe(200);
        const answer = res.json.response;
        const mine = cli[i];
        const context = `${c.name} (document ${i})`;
        expect(mine.document, context).toBe(i);
        expect(mine.outcome, context).toBe(answer.allowed ? 'valid' : 'invalid');
        const serverCauses = (answer.status?.details?.causes ?? []).map((x: any) => [x.field, x.reason, x.message]);
        expect(mine.errors.map((x: any) => [x.field, x.reason, x.message]), context).toEqual(serverCauses);
        expect(mine.warnings.map((w: any) => w.message), context).toEqual(answer.warnings ?? []);
        if (!answer.allowed) denied++;
      }
      // The schema ConfigMaps were judged too, and valid.
      expect(report.results.filter((r: any) => r.kind === 'ConfigMap').map((r: any) => r.outcome)).toEqual(['valid', 'valid']);
      expect(report.summary.invalid).toBe(denied);
    });
  });
});
