/**
 * The shipped program, end to end: `node dist/main.js serve` on the embedded default (certificates
 * generated on first run, schemas from the packaged files), the README's curl example, metrics,
 * health, graceful shutdown, and usage errors with exit code 2.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpsClient } from '../support/https-client.js';
import { ensureBuilt, freePort, REPO, runProgram, startProgram, type RunningProgram } from '../support/built-program.js';
import { decodePatch } from '../support/reviews.js';
import { metricValue } from '../support/metrics-text.js';
import { httpGet } from '../support/http-get.js';


beforeAll(() => ensureBuilt());

describe('usage errors', () => {
  it('a bad flag value stops start-up with one line and exit code 2', () => {
    const r = runProgram(['serve', '--port', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--port .*'abc' is invalid/);
  });

  it('a bad environment value is refused the same way', () => {
    const r = runProgram(['serve'], { env: { BACKEND_WEBHOOK_UNKNOWN_EXTENSION_POLICY: 'maybe' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/BACKEND_WEBHOOK_UNKNOWN_EXTENSION_POLICY.*must be one of deny, warn/);
  });

  it('a missing certificate file is a usage error', () => {
    const r = runProgram(['serve', '--tls-cert-file', '/nonexistent/tls.crt', '--tls-key-file', '/nonexistent/tls.key']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/file not found: \/nonexistent\/tls.crt/);
  });

  it('an unusable certificate pair is a start-up error with exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'badcert-'));
    try {
      writeFileSync(join(dir, 'bad.crt'), 'not a certificate');
      const r = runProgram(['serve', '--port', '0', '--metrics-port', '0', '--tls-cert-file', join(dir, 'bad.crt'), '--tls-key-file', join(dir, 'bad.crt')]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: no PEM certificate in .*bad\.crt$/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the kubernetes source outside a pod without --trusted-namespace exits 2 and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nons-'));
    try {
      const r = runProgram(['serve', '--port', '0', '--metrics-port', '0', '--cert-dir', dir, '--schema-source', 'kubernetes', '--kubeconfig', join(dir, 'none')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/no trusted namespace given/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('unknown commands and flags exit 2', () => {
    expect(runProgram(['frobnicate']).code).toBe(2);
    expect(runProgram(['serve', '--bogus']).code).toBe(2);
  });
});

describe('serve on the embedded default', () => {
  let dir: string;
  let program: RunningProgram;
  let port: number;
  let metricsPort: number;
  let client: HttpsClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serve-'));
    metricsPort = await freePort();
    program = startProgram(['serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--shutdown-delay-seconds', '6', '--shutdown-grace-seconds', '10'], {
      BACKEND_WEBHOOK_CERT_DIR: dir,
    });
    const listening = await program.waitForLog((l) => l.msg === 'backend-webhook listening');
    port = listening.port;
    client = new HttpsClient(`https://localhost:${port}`, readFileSync(join(dir, 'ca.crt')));
  });

  afterAll(async () => {
    client?.close();
    await program?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generated a CA and a serving certificate for localhost and the Service names, an hour back-dated', () => {
    const leaf = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
    expect(leaf.verify(ca.publicKey)).toBe(true);
    for (const name of ['localhost', 'backend-webhook', 'backend-webhook.backend-webhook-system', 'backend-webhook.backend-webhook-system.svc']) {
      expect(leaf.checkHost(name)).toBe(name);
    }
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');
    expect(Date.now() - new Date(leaf.validFrom).getTime()).toBeGreaterThan(55 * 60 * 1000);
  });

  it('answers the README examples: a denial with field errors and a defaulting patch', async () => {
    const invalid = JSON.parse(readFileSync(join(REPO, 'docs/examples/validate-invalid.json'), 'utf8'));
    const denied = (await client.postJson('/validate?timeout=10s', invalid)).json.response;
    expect(denied.allowed).toBe(false);
    expect(denied.status.details.causes.map((c: any) => c.field)).toEqual([
      'spec.destination.ports[0].tls.mode',
      'spec.destination.ports[1].number',
      'spec.extensions[0].rawConfig/secretRef',
    ]);
    const mutate = JSON.parse(readFileSync(join(REPO, 'docs/examples/mutate-fqdn.json'), 'utf8'));
    const patched = (await client.postJson('/mutate?timeout=10s', mutate)).json.response;
    expect(decodePatch(patched)).toEqual([{ op: 'add', path: '/spec/destination/ports/0/tls', value: { mode: 'Simple', sni: 'api.openai.com' } }]);
  });

  it('logs one line per admission decision', async () => {
    const line = await program.waitForLog((l) => l.msg === 'admission decision' && l.endpoint === 'mutate');
    expect(line).toMatchObject({ uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816', kind: 'Backend', namespace: 'team-a', name: 'openai', operation: 'CREATE', allowed: true });
    expect(line.durationMs).toBeGreaterThan(0);
  });

  it('lists the packaged extension types', async () => {
    const types = (await client.send('GET', '/extensions')).json.types.map((t: any) => t.type).sort();
    expect(types).toEqual(['example.com/ToolFilter', 'gateway.networking.k8s.io/CredentialInjector:v1']);
  });

  it('serves health and Prometheus metrics on the plain port', async () => {
    expect((await httpGet(metricsPort, '/healthz')).status).toBe(200);
    expect((await httpGet(metricsPort, '/readyz')).status).toBe(200);
    const metrics = (await httpGet(metricsPort, '/metrics')).text;
    const requests = (endpoint: string, result: string) => metricValue(metrics, 'backend_webhook_admission_requests_total', { endpoint, kind: 'Backend', operation: 'CREATE', result });
    expect(requests('validate', 'denied')).toBe(1);
    expect(requests('mutate', 'patched')).toBe(1);
    // One judged request each so far (the README examples), each observed once.
    expect(metrics).toMatch(/^backend_webhook_admission_duration_seconds_count\{endpoint="validate"\} 1$/m);
    expect(metrics).toMatch(/^backend_webhook_admission_duration_seconds_count\{endpoint="mutate"\} 1$/m);
    expect(Number(/^backend_webhook_admission_duration_seconds_sum\{endpoint="mutate"\} (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^backend_webhook_log_lines_dropped_total 0$/m);
    expect(metricValue(metrics, 'backend_webhook_extension_schemas', { source: 'file' })).toBe(2);
    const expiry = Number(/^backend_webhook_certificate_expiry_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(expiry * 1000).toBe(new Date(new X509Certificate(readFileSync(join(dir, 'tls.crt'))).validTo).getTime());
  });

  it('on SIGTERM: not ready at once, still answering during the delay, then exits 0', async () => {
    const body = JSON.parse(readFileSync(join(REPO, 'docs/examples/mutate-fqdn.json'), 'utf8'));
    program.child.kill('SIGTERM');
    await program.waitForLog((l) => /shutdown: not ready/.test(l.msg ?? ''));
    expect((await httpGet(metricsPort, '/readyz')).status).toBe(503);
    expect((await client.send('GET', '/readyz')).status).toBe(503);
    // Requests arriving during the delay are answered, and told to reconnect elsewhere.
    const during = await client.postJson('/mutate', body);
    expect(during.status).toBe(200);
    expect(during.json.response.uid).toBe(body.request.uid);
    expect(during.headers.connection).toBe('close');
    expect(await program.exited).toBe(0);
  });
});
