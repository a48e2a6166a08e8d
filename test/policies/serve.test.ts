/**
 * The composition root wires policies: `node dist/main.js serve --policy-dir schemas/policies`
 * enforces and defaults by them, lists them on GET /policies, counts decisions in /metrics, and
 * refuses a broken policy ConfigMap at the ConfigMap webhook.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpsClient } from '../support/https-client.js';
import { freePort, runProgram, startProgram, type RunningProgram } from '../support/built-program.js';
import { decodePatch, review } from '../support/reviews.js';
import { ensureBuilt } from '../cli/validate-cli.js';
import { fqdnBackend, policyCm } from './support.js';
import { metricValue } from '../support/metrics-text.js';
import { httpGetOk } from '../support/http-get.js';


let dir: string;
let program: RunningProgram;
let client: HttpsClient;
let metricsPort: number;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'serve-policies-'));
  metricsPort = await freePort();
  program = startProgram(['serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--policy-dir', 'schemas/policies'], {
    BACKEND_WEBHOOK_CERT_DIR: dir,
    BACKEND_WEBHOOK_UNKNOWN_EXTENSION_POLICY: 'warn',
  });
  const listening = await program.waitForLog((l) => l.msg === 'backend-webhook listening');
  client = new HttpsClient(`https://localhost:${listening.port}`, readFileSync(join(dir, 'ca.crt')));
}, 300_000);

afterAll(async () => {
  client?.close();
  await program?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('serve --policy-dir', () => {
  it('lists the packaged example policies', async () => {
    const res = await client.send('GET', '/policies');
    expect(res.json.policies.map((p: any) => [p.ref, p.loaded])).toEqual([
      ['backend-webhook-system/egress-allow-list', true],
      ['backend-webhook-system/openai', true],
    ]);
  });

  it('denies, defaults, and counts the decisions', async () => {
    const denied = (await client.postJson('/validate', review(fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP', tls: { mode: 'None' } }])))).json.response;
    expect(denied.allowed).toBe(false);
    expect(denied.status.message).toContain('policy backend-webhook-system/openai (allowedTlsModes)');
    const mutated = (await client.postJson('/mutate', review(fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP' }])))).json.response;
    expect(decodePatch(mutated).map((op: any) => op.path)).toEqual(['/spec/destination/ports/0/tls', '/spec/extensions']);
    const metrics = await httpGetOk(metricsPort, '/metrics');
    const decisions = (rule: string, action: string) => metricValue(metrics, 'backend_webhook_policy_decisions_total', { policy: 'backend-webhook-system/openai', rule, action });
    expect(decisions('allowedTlsModes', 'deny')).toBe(1);
    expect(decisions('extensions', 'default')).toBe(1);
  });

  it('serves the Node.js process metrics next to ours (README: Observability)', async () => {
    const metrics = await httpGetOk(metricsPort, '/metrics');
    expect(metricValue(metrics, 'process_start_time_seconds'), 'process_start_time_seconds').toBeGreaterThan(Date.now() / 1000 - 3_600);
    expect(metricValue(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(metricValue(metrics, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(metricValue(metrics, 'nodejs_version_info', { version: process.version })).toBe(1);
  });

  it('the ConfigMap webhook refuses a broken policy', async () => {
    const body = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, operation: 'CREATE', namespace: 'platform', name: 'p', object: policyCm('p', 'match: {cidrs: ["10.0.0.0/99"]}') },
    };
    const res = (await client.postJson('/validate-extension-schema', body)).json.response;
    expect(res.allowed).toBe(false);
    expect(res.status.details.causes[0].field).toBe('data[policy.yaml]/match/cidrs/0');
  });

  it('a missing --policy-dir is a usage error', () => {
    const r = runProgram(['serve', '--policy-dir', '/nonexistent/policies'], { env: { BACKEND_WEBHOOK_CERT_DIR: dir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--policy-dir \/nonexistent\/policies does not exist/);
  });
});
