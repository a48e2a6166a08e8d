// The stand-in API server of the audit benchmarks: N stored Backends over 20 namespaces (one in ten
// refused), 100 extension schemas and 50 platform policies, lists paged, watches held open.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setPriority } from 'node:os';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { routePolicySchema, typicalBackend } from './fixtures.mjs';

const GROUP = 'ainetworking.prototype.x-k8s.io';
export const NS = 'backend-webhook-system';
export const SCHEMAS = 100;
export const POLICIES = 50;
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
export function backends(n) {
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
export async function fakeApiServer(objects) {
  const configMaps = [...schemaConfigMaps(), ...policyConfigMaps()];
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => ({ metadata: { name: `team-${i}`, labels: { team: `team-${i}` } } })).concat([{ metadata: { name: NS, labels: {} } }]);
  const watches = new Set();
  const pages = new Map();
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
    // Pages serialised once: the real API server answers lists from its cache, not by re-encoding.
    const list = (items, kind) => {
      const limit = Number(url.searchParams.get('limit') ?? 0);
      const start = Number(url.searchParams.get('continue') || 0);
      const cacheKey = `${url.pathname}?${url.searchParams.get('labelSelector') ?? ''}&${limit}&${start}`;
      let text = pages.get(cacheKey);
      if (text === undefined) {
        const page = limit > 0 ? items.slice(start, start + limit) : items.slice(start);
        const next = limit > 0 && start + limit < items.length ? String(start + limit) : undefined;
        text = JSON.stringify({ apiVersion: 'v1', kind, metadata: { resourceVersion: '100000', ...(next ? { continue: next } : {}) }, items: page });
        pages.set(cacheKey, text);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
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


/**
 * The stand-in in a process of its own (`node bench/audit-cluster.mjs N`) at the lowest CPU priority:
 * serving 50,000 objects' lists must not hold up the event loop of the process that measures
 * admission latency, nor take the cores from the server measured.
 */
export async function standInApiServer(n) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  // In a cluster the API server is another machine: here it yields the CPU to what is measured.
  setPriority(child.pid, 19);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(line.trim());
    });
    child.on('exit', (code) => reject(new Error(`stand-in API server exited (${code})`)));
  });
  return {
    url,
    kubeconfig(dir) {
      const file = join(dir, `kubeconfig-${n}`);
      writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: b, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\nusers: [{name: b, user: {token: bench}}]\ncontexts: [{name: b, context: {cluster: b, user: b}}]\ncurrent-context: b\n`);
      return file;
    },
    async close() {
      child.kill('SIGKILL');
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve()));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const api = await fakeApiServer(backends(Number(process.argv[2] ?? 0)));
  console.log(api.url);
}
