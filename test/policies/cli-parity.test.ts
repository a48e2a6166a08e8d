/**
 * The offline CLI (built, as a subprocess) and the HTTPS server reach the same verdicts under the
 * same platform policies and namespace labels. The server is driven as the API server drives it:
 * /mutate, apply the patch, then /validate.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsonPatch from 'fast-json-patch';
import pino from 'pino';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { POLICY_SELECTOR } from '../../src/policies/format.js';
import { StaticNamespaceLabels } from '../../src/policies/namespaces.js';
import { PolicyRegistry } from '../../src/policies/registry.js';
import { policyContextFor } from '../../src/policies/startup.js';
import { FileConfigMapSource } from '../../src/schemas/file-source.js';
import { decodePatch, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { ensureBuilt, ROOT, runValidate } from '../cli/validate-cli.js';

const DIR = 'test/policies/fixtures';
const BACKENDS = `${DIR}/backends.yaml`;
const NAMESPACES = `${DIR}/namespaces.yaml`;
const POLICIES = `${DIR}/policies.yaml`;
const objectsOf = (file: string): any[] => parseAllDocuments(readFileSync(path.join(ROOT, file), 'utf8')).map((d) => (d as { toJS(): unknown }).toJS());

let registry: PolicyRegistry;
let server: TestServer;

beforeAll(async () => {
  await ensureBuilt();
  registry = new PolicyRegistry({ logger: pino({ level: 'silent' }) });
  await registry.start([new FileConfigMapSource({ paths: [path.join(ROOT, POLICIES)], labelSelector: POLICY_SELECTOR })]);
  expect(registry.snapshot().size).toBe(3);
  server = await startTestServer({
    validation: { ...DEFAULT_VALIDATION_OPTIONS, unknownExtensionPolicy: 'warn' },
    policies: policyContextFor(registry, new StaticNamespaceLabels(objectsOf(NAMESPACES))),
  });
}, 300_000);

afterAll(async () => {
  await server?.close();
  await registry?.stop();
});

/** What the cluster answers for one Backend: mutate, apply, validate. */
async function clusterVerdict(object: unknown) {
  const mutated = (await server.client.postJson('/mutate', review(object))).json.response;
  const patched = mutated.patch ? jsonPatch.applyPatch(structuredClone(object) as object, decodePatch(mutated), false, false).newDocument : object;
  return (await server.client.postJson('/validate', review(patched))).json.response;
}

describe('CLI and server under platform policies', () => {
  for (const [how, args] of [
    ['--policy-dir', [BACKENDS, NAMESPACES, '--policy-dir', POLICIES]],
    ['policies in the input', [BACKENDS, NAMESPACES, POLICIES]],
  ] as const) {
    it(`agree per object (${how})`, async () => {
      const run = await runValidate(['-o', 'json', '--unknown-extension-policy', 'warn', ...args]);
      expect(run.code, run.stderr).toBe(1);
      const report = JSON.parse(run.stdout);
      const cli = report.results.filter((r: any) => r.file === BACKENDS);
      const backends = objectsOf(BACKENDS);
      expect(cli).toHaveLength(backends.length);

      const outcomes: string[] = [];
      for (const [i, object] of backends.entries()) {
        const answer = await clusterVerdict(object);
        const mine = cli[i];
        const context = `${object.metadata.namespace}/${object.metadata.name}`;
        expect(mine.outcome, context).toBe(answer.allowed ? 'valid' : 'invalid');
        expect(mine.errors.map((x: any) => [x.field, x.reason, x.message]), context).toEqual((answer.status?.details?.causes ?? []).map((x: any) => [x.field, x.reason, x.message]));
        expect(mine.warnings.map((w: any) => w.message).sort(), context).toEqual([...(answer.warnings ?? [])].sort());
        outcomes.push(`${context}: ${mine.outcome}`);
      }
      // The fixtures exercise what they claim: defaults satisfying a requirement, deny, warn, selectors, unknown labels.
      expect(outcomes).toEqual(['open/openai-plain: valid', 'open/openai-none: invalid', 'open/openai-8443: valid', 'locked/paste: invalid', 'open/paste: valid', 'unknown/paste: invalid']);
      expect(cli[2].warnings.map((w: any) => w.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^policy backend-webhook-system\/openai \(allowedPorts\)/)]));
      expect(cli[5].errors[0].message).toMatch(/labels of namespace unknown are unknown/);
    });
  }

  it('a broken policy under --policy-dir stops the run (exit 2); in the input it is reported against its file', async () => {
    const broken = `${DIR}/broken-policy.yaml`;
    const dirRun = await runValidate(['-o', 'json', BACKENDS, '--policy-dir', broken]);
    expect(dirRun.code).toBe(2);
    expect(dirRun.stdout + dirRun.stderr).toContain('--policy-dir: ConfigMap backend-webhook-system/broken');
    const inputRun = await runValidate(['-o', 'json', broken]);
    expect(inputRun.code).toBe(1);
    const row = JSON.parse(inputRun.stdout).results.find((r: any) => r.kind === 'ConfigMap');
    expect(row.outcome).toBe('invalid');
    expect(row.errors[0].field).toBe('data[policy.yaml]/overrides/allowedTlsModes/modes/0');
  });
});
