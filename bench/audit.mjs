// Audit benchmarks (docs/benchmarks.md "Audit"): a stand-in API server on loopback serves N stored
// Backends, 100 extension schemas and 50 platform policies; we measure
//  1. `backend-webhook audit` one shot: wall time and CPU at 10,000 and 20,000 objects (linearity);
//  2. `serve` with the in-cluster audit: RSS after a full run at 10,000 and 50,000 objects;
//  3. admission latency (paced, /validate) with the audit off and with audits running back to back.
// Usage: npm run build && node bench/audit.mjs   (BENCH_AUDIT_QUICK=1 for smaller numbers)
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentFor, fmt, freePort, httpsRequest, pacedLatency, ROOT, startServer } from './lib.mjs';
import { review, routePolicySchema, typicalBackend } from './fixtures.mjs';

const QUICK = process.env.BENCH_AUDIT_QUICK === '1';
const GROUP = 'ainetworking.prototype.x-k8s.io';
const NS = 'backend-webhook-system';
const SCHEMAS = 100;
const POLICIES = 50;
const NAMESPACES = 20;

const schemaType = (i) => `ext${i}.bench.example.com/Generated${i}:v1`;

function schemaConfigMaps() {
  return Array.from({ length: SCHEMAS }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `ext-${i}`, namespace: NS, uid: `s${i}`, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'ainetworking.prototype.x-k8s.io/extension-schema': 'true' } },
    data: { type: schemaType(i), 'schema.json': JSON.stringify(routePolicySchema(i)) },
  }));
}

function policyConfigMaps() {
  return Array.from({ length: POLICIES }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `policy-${i}`, namespace: NS, uid: `p${i}`, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'ainetworking.prototype.x-k8s.io/backend-policy': 'true' } },
    data: { 'policy.yaml': `match:\n  hosts: ["*.svc${i}.example.com"]\noverrides:\n  allowedPorts: { ports: [443, 8443] }\n  allowedTlsModes: { modes: [Simple, Mutual] }\n` },
  }));
}

/** N Backends over 20 namespaces; one in ten breaks a rule (a refused address). */
function backends(n) {
  const template = typicalBackend();
  return Array.from({ length: n }, (_, i) => {
    const b = structuredClone(template);
    b.metadata = { name: `b-${i}`, namespace: `team-${i % NAMESPACES}`, uid: `u${i}`, resourceVersion: String(10 + i), labels: { app: 'bench' } };
    b.spec.destination.fqdn.hostname = `api${i}.svc${i % POLICIES}.example.com`;
    b.spec.destination.ports[0].tls.sni = b.spec.destination.fqdn.hostname;
    b.spec.extensions[0].type = schemaType(i % SCHEMAS);
    delete b.spec.extensions[0].rawConfig.mode; // each generated schema names its mode field differently
    if (i % 10 === 0) b.spec.destination = { type: 'Ip', ip: { address: '169.254.169.254' }, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple' } }] };
    return b;
  });
}

/** The API server as far as audit and serve read it: lists (paged), watches held open, 404 elsewhere. */
async function fakeApiServer(objects) {
  const configMaps = [...schemaConfigMaps(), ...policyConfigMaps()];
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => ({ metadata: { name: `team-${i}`, labels: { team: `team-${i}` } } })).concat([{ metadata: { name: NS, labels: {} } }]);
  const watches = new Set();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      watches.add(res);
      req.on('close', () => watches.delete(res));
      return;
    }
    const list = (items, kind) => {
      const limit = Number(url.searchParams.get('limit') ?? 0);
      const start = Number(url.searchParams.get('continue') || 0);
      const page = limit > 0 ? items.slice(start, start + limit) : items.slice(start);
      const next = limit > 0 && start + limit < items.length ? String(start + limit) : undefined;
      json(200, { apiVersion: 'v1', kind, metadata: { resourceVersion: '100000', ...(next ? { continue: next } : {}) }, items: page });
    };
    const path = url.pathname;
    if (path === `/apis/${GROUP}/v0alpha0/backends`) return list(objects, 'BackendList');
    if (path === `/apis/${GROUP}/v0alpha0/xbackenddestinations`) return list([], 'XBackendDestinationList');
    if (path === `/api/v1/namespaces/${NS}/configmaps`) {
      const selector = url.searchParams.get('labelSelector') ?? '';
      const key = selector.split('=')[0];
      return list(configMaps.filter((c) => c.metadata.labels[key] === 'true'), 'ConfigMapList');
    }
    if (path === '/api/v1/namespaces') return list(namespaces, 'NamespaceList');
    if (path.startsWith('/apis/coordination.k8s.io/') && req.method === 'GET') return json(404, { kind: 'Status', code: 404, reason: 'NotFound' });
    if (path.startsWith('/apis/coordination.k8s.io/')) {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => json(req.method === 'POST' ? 201 : 200, JSON.parse(body || '{}')));
      return;
    }
    json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    kubeconfig(dir) {
      const file = join(dir, `kubeconfig-${objects.length}`);
      writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: b, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\nusers: [{name: b, user: {token: bench}}]\ncontexts: [{name: b, context: {cluster: b, user: b}}]\ncurrent-context: b\n`);
      return file;
    },
    async close() {
      for (const w of watches) w.destroy();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Asynchronous: the stand-in API server runs in this process and must keep answering.
async function timedAudit(kubeconfig) {
  const { stdout: out } = await promisify(execFile)('bash', ['-c', `TIMEFORMAT='%R %U %S'; { time node dist/main.js audit --kubeconfig ${kubeconfig} --trusted-namespace ${NS} -o json > /dev/null 2>/dev/null || test $? -eq 1; } 2>&1`], { cwd: ROOT, encoding: 'utf8' });
  const [real, user, sys] = out.trim().split(/\s+/).map(Number);
  return { wallS: real, cpuS: user + sys };
}

async function auditRss(work, api, n) {
  const port = await freePort();
  const certDir = join(work, `certs-${n}`);
  const server = await startServer({
    name: `serve-${n}`,
    args: ['dist/main.js', 'serve', '--port', String(port), '--host', '127.0.0.1', '--metrics-port', '0', '--cert-dir', certDir, '--schema-source', 'kubernetes', '--kubeconfig', api.kubeconfig(work), '--trusted-namespace', NS, '--audit-interval', '10m', '--log-level', 'warn'],
    port,
    caFile: () => join(certDir, 'ca.crt'),
    readyTimeoutMs: 120_000,
  });
  const agent = agentFor(join(certDir, 'ca.crt'), 1);
  const deadline = Date.now() + 300_000;
  let summary;
  for (;;) {
    // A busy server may drop a polling connection: poll again rather than fail the run.
    summary = await httpsRequest(agent, port, 'GET', '/audit').then((r) => JSON.parse(r.text), () => ({}));
    if (summary.lastRun && summary.objects === n) break;
    if (Date.now() > deadline) throw new Error(`audit of ${n} did not finish: ${JSON.stringify(summary)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const memory = server.memory();
  agent.destroy();
  await server.stop();
  return { objects: summary.objects, violations: summary.violations, runMs: summary.lastRunDurationMs, ...memory };
}

async function latencyWithAudit(work, api, intervalArg) {
  const port = await freePort();
  const certDir = join(work, `certs-lat-${intervalArg}`);
  const server = await startServer({
    name: `serve-lat-${intervalArg}`,
    args: ['dist/main.js', 'serve', '--port', String(port), '--host', '127.0.0.1', '--metrics-port', '0', '--cert-dir', certDir, '--schema-source', 'kubernetes', '--kubeconfig', api.kubeconfig(work), '--trusted-namespace', NS, '--audit-interval', intervalArg, '--log-level', 'warn'],
    port,
    caFile: () => join(certDir, 'ca.crt'),
    readyTimeoutMs: 120_000,
  });
  // Let the first full run start before measuring.
  await new Promise((r) => setTimeout(r, 3000));
  const body = JSON.stringify(review(typicalBackend()));
  const result = await pacedLatency(port, join(certDir, 'ca.crt'), '/validate', body, QUICK ? 5 : 15, 200);
  const agent = agentFor(join(certDir, 'ca.crt'), 1);
  const summary = await httpsRequest(agent, port, 'GET', '/audit').then((r) => JSON.parse(r.text), () => ({}));
  agent.destroy();
  await server.stop();
  return { ...result, audit: summary };
}

const work = mkdtempSync(join(tmpdir(), 'bw-bench-audit-'));
mkdirSync(work, { recursive: true });
try {
  const sizes = process.env.BENCH_AUDIT_SKIP_ONESHOT === '1' ? [] : QUICK ? [2000, 4000] : [10_000, 20_000];
  const oneShot = [];
  for (const n of sizes) {
    const api = await fakeApiServer(backends(n));
    await timedAudit(api.kubeconfig(work)); // warm the file cache
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await timedAudit(api.kubeconfig(work)));
    runs.sort((a, b) => a.wallS - b.wallS);
    oneShot.push({ n, ...runs[1] });
    console.error(`[audit bench] one shot ${n}: ${JSON.stringify(runs[1])}`);
    await api.close();
  }
  const memory = [];
  for (const n of QUICK ? [2000] : (process.env.BENCH_AUDIT_SIZES ?? '10000,50000').split(',').map(Number)) {
    const api = await fakeApiServer(backends(n));
    memory.push(await auditRss(work, api, n));
    console.error(`[audit bench] serve ${n}: ${JSON.stringify(memory.at(-1))}`);
    await api.close();
  }
  const api = await fakeApiServer(backends(QUICK ? 2000 : 10_000));
  const idle = await latencyWithAudit(work, api, '0');
  const busy = await latencyWithAudit(work, api, '1s');
  await api.close();

  const lines = [
    `## Audit (${new Date().toISOString()}, ${SCHEMAS} schemas, ${POLICIES} policies, one in ten objects refused)`,
    '',
    '| measurement | result | target |',
    '| --- | --- | --- |',
    ...oneShot.map((r) => `| \`audit\` one shot, ${r.n.toLocaleString('en')} stored Backends (median of 3, process start included) | **${fmt(r.wallS)} s** wall, ${fmt(r.cpuS)} s CPU | < 5 s at 10,000, linear |`),
    ...memory.map((m) => `| \`serve\` in-cluster audit, ${m.objects.toLocaleString('en')} objects: RSS after a full run (peak) | **${fmt(m.rssMiB, 0)} MiB** (peak ${fmt(m.peakMiB, 0)}); full run ${m.runMs} ms, ${m.violations} violations | < 300 MiB at 50,000 |`),
    `| admission p99 (paced 200 req/s, /validate), audit off | p50 ${fmt(idle.p50)} / p99 **${fmt(idle.p99)} ms** | |`,
    `| admission p99 with back-to-back audits of ${busy.audit.objects?.toLocaleString('en')} objects | p50 ${fmt(busy.p50)} / p99 **${fmt(busy.p99)} ms** (${busy.audit.lastRunDurationMs} ms per run) | within 2 ms of audit off |`,
  ];
  console.log(lines.join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
