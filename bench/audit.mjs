// Audit benchmarks (docs/benchmarks.md "Audit"): a stand-in API server on loopback serves N stored
// Backends, 100 extension schemas and 50 platform policies; we measure
//  1. `backend-webhook audit` one shot: wall time and CPU at 10,000 and 20,000 objects (linearity);
//  2. `serve` with the in-cluster audit: RSS after a full run at 10,000 and 50,000 objects;
//  3. admission latency (paced, /validate) with the audit off and with audits running back to back.
// Usage: npm run build && node bench/audit.mjs   (BENCH_AUDIT_QUICK=1 for smaller numbers)
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentFor, fmt, freePort, httpsRequest, pacedLatency, ROOT, startServer } from './lib.mjs';
import { review, typicalBackend } from './fixtures.mjs';
import { NS, POLICIES, SCHEMAS, standInApiServer } from './audit-cluster.mjs';

const QUICK = process.env.BENCH_AUDIT_QUICK === '1';
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
    const api = await standInApiServer(n);
    await timedAudit(api.kubeconfig(work)); // warm the file cache
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await timedAudit(api.kubeconfig(work)));
    runs.sort((a, b) => a.wallS - b.wallS);
    oneShot.push({ n, ...runs[1] });
    console.error(`[audit bench] one shot ${n}: ${JSON.stringify(runs[1])}`);
    await api.close();
  }
  const memory = [];
  for (const n of process.env.BENCH_AUDIT_SKIP_MEMORY === '1' ? [] : QUICK ? [2000] : (process.env.BENCH_AUDIT_SIZES ?? '10000,50000').split(',').map(Number)) {
    const api = await standInApiServer(n);
    memory.push(await auditRss(work, api, n));
    console.error(`[audit bench] serve ${n}: ${JSON.stringify(memory.at(-1))}`);
    await api.close();
  }
  let idle;
  let busy;
  if (process.env.BENCH_AUDIT_SKIP_LATENCY !== '1') {
    const api = await standInApiServer(QUICK ? 2000 : 10_000);
    // Rounds alternate (off, on, off, on, ...): a machine whose load drifts shifts both alike.
    const rounds = QUICK ? 1 : Number(process.env.BENCH_AUDIT_ROUNDS ?? 3);
    const offs = [];
    const ons = [];
    for (let i = 0; i < rounds; i++) {
      offs.push(await latencyWithAudit(work, api, '0'));
      ons.push(await latencyWithAudit(work, api, '1s'));
      console.error(`[audit bench] latency round ${i + 1}: off p99 ${fmt(offs.at(-1).p99)}, on p99 ${fmt(ons.at(-1).p99)} ms`);
    }
    const median = (runs) => [...runs].sort((a, b) => a.p99 - b.p99)[Math.floor(runs.length / 2)];
    idle = { ...median(offs), all: offs.map((r) => fmt(r.p99)).join(', ') };
    busy = { ...median(ons), all: ons.map((r) => fmt(r.p99)).join(', ') };
    await api.close();
  }

  const lines = [
    `## Audit (${new Date().toISOString()}, ${SCHEMAS} schemas, ${POLICIES} policies, one in ten objects refused)`,
    '',
    '| measurement | result | target |',
    '| --- | --- | --- |',
    ...oneShot.map((r) => `| \`audit\` one shot, ${r.n.toLocaleString('en')} stored Backends (median of 3, process start included) | **${fmt(r.wallS)} s** wall, ${fmt(r.cpuS)} s CPU | < 5 s at 10,000, linear |`),
    ...memory.map((m) => `| \`serve\` in-cluster audit, ${m.objects.toLocaleString('en')} objects: RSS after a full run (peak) | **${fmt(m.rssMiB, 0)} MiB** (peak ${fmt(m.peakMiB, 0)}); full run ${m.runMs} ms, ${m.violations} violations | < 300 MiB at 50,000 |`),
    ...(idle && busy
      ? [
          `| admission (paced 200 req/s, /validate), audit off: median round | p50 ${fmt(idle.p50)} / p99 **${fmt(idle.p99)} ms** (p99 per round: ${idle.all}) | |`,
          `| admission with back-to-back audits of ${busy.audit.objects?.toLocaleString('en')} objects: median round | p50 ${fmt(busy.p50)} / p99 **${fmt(busy.p99)} ms** (p99 per round: ${busy.all}; ${busy.audit.lastRunDurationMs} ms per run) | within 2 ms of audit off |`,
        ]
      : []),
  ];
  console.log(lines.join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
