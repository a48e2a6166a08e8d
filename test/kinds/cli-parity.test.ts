/**
 * The offline CLI and the HTTPS server agree on XBackends and BackendTLSPolicies: the kinds table
 * written as manifests, judged by the built CLI (`-o json`) and POSTed to a real server's /validate;
 * allowed, every cause (field, reason, message) and every warning must agree, per object. UPDATE
 * cases run with `--against` (the old object as the live one), so ratcheting agrees too; and
 * `--show-defaults` prints the /mutate patch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ValidationOptions } from '../../src/backend/options.js';
import { decodePatch, reviewOf } from '../support/reviews.js';
import { TestServerPool, type TestServer } from '../support/test-server.js';
import { ensureBuilt, runValidate } from '../cli/validate-cli.js';
import { KIND_CASES, makeXBackend, type KindCase } from './cases.js';

let tmp: string;
const pool = new TestServerPool();
const serverFor = (options: Partial<ValidationOptions>): Promise<TestServer> => pool.for(options);
const flagsFor = (options: Partial<ValidationOptions>): string[] => (options.clusterDomain ? ['--cluster-domain', options.clusterDomain] : []);

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kinds-parity-'));
}, 300_000);
afterAll(async () => {
  await pool.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function compare(cases: KindCase[], file: string, cli: any[], options: Partial<ValidationOptions>): Promise<number> {
  const server = await serverFor(options);
  expect(cli).toHaveLength(cases.length);
  let denied = 0;
  for (const [i, c] of cases.entries()) {
    const answer = (await server.client.postJson('/validate', reviewOf(c.object, { operation: c.operation ?? 'CREATE', oldObject: c.oldObject }))).json.response;
    const mine = cli[i];
    const context = `${c.name} (${file} document ${i})`;
    expect(mine.outcome, context).toBe(answer.allowed ? 'valid' : 'invalid');
    expect(mine.outcome, context).toBe(c.expectErrors.length === 0 ? 'valid' : 'invalid');
    expect(mine.errors.map((x: any) => [x.field, x.reason, x.message]), context).toEqual((answer.status?.details?.causes ?? []).map((x: any) => [x.field, x.reason, x.message]));
    expect(mine.warnings.map((w: any) => w.message), context).toEqual(answer.warnings ?? []);
    if (!answer.allowed) denied++;
  }
  return denied;
}

describe('CLI and HTTPS server verdicts on XBackend and BackendTLSPolicy', () => {
  const creates = KIND_CASES.filter((c) => (c.operation ?? 'CREATE') === 'CREATE');
  const byOptions = new Map<string, KindCase[]>();
  for (const c of creates) byOptions.set(JSON.stringify(c.options ?? {}), [...(byOptions.get(JSON.stringify(c.options ?? {})) ?? []), c]);

  it('covers valid and invalid objects of both kinds', () => {
    expect(creates.filter((c) => c.expectErrors.length > 0).length).toBeGreaterThan(35);
    expect(new Set(creates.map((c) => (c.object as { kind: string }).kind))).toEqual(new Set(['XBackend', 'BackendTLSPolicy']));
  });

  [...byOptions.entries()].forEach(([key, cases], g) => {
    const options = JSON.parse(key) as Partial<ValidationOptions>;
    it(`agree on ${cases.length} CREATE objects with flags [${flagsFor(options).join(' ')}]`, async () => {
      const file = path.join(tmp, `creates-${g}.yaml`);
      writeFileSync(file, cases.map((c) => stringify(c.object)).join('---\n'));
      const run = await runValidate(['-o', 'json', ...flagsFor(options), file]);
      expect([0, 1]).toContain(run.code);
      const report = JSON.parse(run.stdout);
      const denied = await compare(cases, file, report.results, options);
      expect(report.summary.invalid).toBe(denied);
      expect(report.summary.skipped).toBe(0);
    });
  });

  for (const c of KIND_CASES.filter((x) => x.operation === 'UPDATE')) {
    it(`agree with --against: ${c.name}`, async () => {
      const file = path.join(tmp, 'update.yaml');
      const live = path.join(tmp, 'live.yaml');
      writeFileSync(file, stringify(c.object));
      writeFileSync(live, stringify(c.oldObject));
      const run = await runValidate(['-o', 'json', '--against', live, file]);
      const report = JSON.parse(run.stdout);
      await compare([c], file, report.results.filter((r: any) => r.file === file.split(path.sep).join('/')), c.options ?? {});
      if (c.expectErrors.length === 0) {
        expect(report.results[0].warnings.map((w: any) => w.message)).toEqual([expect.stringMatching(/^unchanged, so allowed: /)]);
        // Without --against the same object is a CREATE: the problem denies.
        const fresh = JSON.parse((await runValidate(['-o', 'json', file])).stdout);
        expect(fresh.results[0].outcome).toBe('invalid');
      }
    });
  }

  it('--show-defaults prints the XBackend TLS default, as /mutate patches it', async () => {
    const object = makeXBackend({ type: 'ExternalHostname', externalHostname: { hostname: 'api.mistral.ai' }, port: { port: 443 } });
    const file = path.join(tmp, 'defaults.yaml');
    writeFileSync(file, stringify(object));
    const report = JSON.parse((await runValidate(['-o', 'json', '--show-defaults', file])).stdout);
    const server = await serverFor({});
    const mutated = (await server.client.postJson('/mutate', reviewOf(object))).json.response;
    expect(report.results[0].defaults).toEqual(decodePatch(mutated));
    expect(report.results[0].defaults).toEqual([{ op: 'add', path: '/spec/tls', value: { mode: 'ServerOnly', validation: { hostname: 'api.mistral.ai', wellKnownCACertificates: 'System' } } }]);
  });

  it('an XBackend of an unserved version is skipped with a hint naming what is judged', async () => {
    const file = path.join(tmp, 'typo.yaml');
    writeFileSync(file, stringify({ ...makeXBackend({}), apiVersion: 'gateway.networking.x-k8s.io/v1alpha9' }));
    const report = JSON.parse((await runValidate(['-o', 'json', file])).stdout);
    expect(report.results[0].outcome).toBe('skipped');
    expect(report.results[0].warnings[0].message).toBe('not judged: gateway.networking.x-k8s.io/v1alpha9 XBackend is not served; judged are gateway.networking.x-k8s.io/v1alpha1 XBackend');
  });
});
