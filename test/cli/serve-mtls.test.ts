/**
 * `serve --client-ca-file`: only callers with a client certificate from that CA (the API server,
 * configured through its AdmissionConfiguration) get through; others are refused at the TLS layer.
 * Through the built program, so the flag's whole path is covered.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateCa, generateClientCertificate } from '../../src/tls/generate.js';
import { ensureBuilt, REPO, startProgram, type RunningProgram } from '../support/built-program.js';
import { HttpsClient } from '../support/https-client.js';

let dir: string;
let program: RunningProgram;
let port: number;
let clients: HttpsClient[] = [];
const body = () => readFileSync(join(REPO, 'docs/examples/mutate-fqdn.json'), 'utf8');

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'mtls-'));
  const apiServerCa = generateCa({ commonName: 'api-server-client-ca' });
  writeFileSync(join(dir, 'client-ca.crt'), apiServerCa.certPem);
  const client = generateClientCertificate(apiServerCa, { commonName: 'kube-apiserver' });
  writeFileSync(join(dir, 'client.crt'), client.certPem);
  writeFileSync(join(dir, 'client.key'), client.keyPem);
  const stranger = generateClientCertificate(generateCa({ commonName: 'someone-else' }), { commonName: 'intruder' });
  writeFileSync(join(dir, 'stranger.crt'), stranger.certPem);
  writeFileSync(join(dir, 'stranger.key'), stranger.keyPem);
  program = startProgram(['serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--cert-dir', join(dir, 'certs'), '--client-ca-file', join(dir, 'client-ca.crt'), '--shutdown-delay-seconds', '0']);
  port = (await program.waitForLog((l) => l.msg === 'backend-webhook listening')).port;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await program?.kill();
  rmSync(dir, { recursive: true, force: true });
});

function client(extra: { cert?: string; key?: string } = {}): HttpsClient {
  const c = new HttpsClient(`https://localhost:${port}`, readFileSync(join(dir, 'certs/ca.crt')), extra);
  clients.push(c);
  return c;
}

it('answers a caller with a client certificate from the client CA', async () => {
  const res = await client({ cert: readFileSync(join(dir, 'client.crt'), 'utf8'), key: readFileSync(join(dir, 'client.key'), 'utf8') }).postJson('/mutate', body());
  expect(res.status).toBe(200);
  expect(res.json.response.allowed).toBe(true);
});

it('refuses, at the TLS layer, a caller without a client certificate', async () => {
  await expect(client().postJson('/mutate', body())).rejects.toThrow(/certificate|socket hang up|ECONNRESET|alert/i);
});

it('refuses, at the TLS layer, a client certificate from another CA', async () => {
  const stranger = client({ cert: readFileSync(join(dir, 'stranger.crt'), 'utf8'), key: readFileSync(join(dir, 'stranger.key'), 'utf8') });
  await expect(stranger.postJson('/mutate', body())).rejects.toThrow(/certificate|socket hang up|ECONNRESET|alert/i);
});
