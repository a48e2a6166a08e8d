// Process, load and statistics helpers for bench/run.mjs.
import { execSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** One HTTPS request; resolves with status, body text and the elapsed milliseconds. */
export function httpsRequest(agent, port, method, path, body) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', servername: 'localhost', port, method, path, agent, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8'), ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function agentFor(caFile, maxSockets = 16) {
  return new Agent({ ca: readFileSync(caFile), keepAlive: true, maxSockets });
}

/**
 * Spawns a server process and waits until GET /readyz answers 200. Returns the child, the time from
 * spawn to ready, and a stop function. The server's stdout is discarded (its logs would otherwise
 * compete with the measurement for the pipe); stderr is kept for errors.
 */
export async function startServer({ name, args, port, caFile, env = {}, readyTimeoutMs = 60_000 }) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d.toString();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + readyTimeoutMs;
  let agent;
  for (;;) {
    if (exited) throw new Error(`${name} exited before ready: ${stderr.slice(0, 2000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within ${readyTimeoutMs} ms: ${stderr.slice(0, 2000)}`);
    }
    try {
      // The CA file may only appear once the server generated it.
      agent ??= agentFor(typeof caFile === 'function' ? caFile() : caFile, 1);
      const res = await httpsRequest(agent, port, 'GET', '/readyz');
      if (res.status === 200) break;
    } catch {
      agent?.destroy();
      agent = undefined;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  agent?.destroy();
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    child,
    readyMs,
    port,
    stderr: () => stderr,
    /** Resident set size and its peak, in MiB, from /proc. */
    /** CPU time the server has used so far (user + system, all threads), in µs, from /proc. */
    cpuMicros() {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * (1e6 / CLOCK_TICKS);
    },
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
    },
    async stop() {
      if (exited) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every Linux we run on). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Common autocannon settings: the same for every target. */
export const LOAD = { connections: 10, pipelining: 1 };

/** Closed-loop throughput: as many requests as the server answers, `duration` seconds. */
export async function throughput(port, path, body, duration) {
  const result = await autocannon({
    url: `https://127.0.0.1:${port}`,
    ...LOAD,
    duration,
    requests: [{ method: 'POST', path, headers: { 'content-type': 'application/json' }, body }],
  });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  return { rps: result.requests.average, total: result.requests.total, non2xx, p99ms: result.latency.p99 };
}

/**
 * Latency at a fixed offered rate with autocannon's `overallRate`. Each response time is captured
 * from autocannon's `response` event (sub-millisecond; autocannon's own histogram has whole ms).
 */
export async function latencyAtRate(port, path, body, duration, rate = 1000) {
  const samples = [];
  const instance = autocannon({
    url: `https://127.0.0.1:${port}`,
    ...LOAD,
    duration,
    overallRate: rate,
    requests: [{ method: 'POST', path, headers: { 'content-type': 'application/json' }, body }],
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode === 200) samples.push(responseTime);
  });
  const result = await new Promise((resolve, reject) => {
    instance.on('done', resolve);
    instance.on('error', reject);
  });
  return { ...summarize(samples), achievedRps: result.requests.average, non2xx: result.non2xx + result.errors + result.timeouts };
}

/** Sequential requests over one keep-alive connection: per-admission time for big objects. */
export async function sequentialLatency(port, caFile, path, body, count, warmup = 5) {
  const agent = agentFor(caFile, 1);
  const samples = [];
  let status;
  try {
    for (let i = 0; i < warmup + count; i++) {
      const res = await httpsRequest(agent, port, 'POST', path, body);
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
      status = JSON.parse(res.text).response;
      if (i >= warmup) samples.push(res.ms);
    }
  } finally {
    agent.destroy();
  }
  return { ...summarize(samples), allowed: status.allowed, patched: status.patch !== undefined };
}

export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const mean = sorted.reduce((s, x) => s + x, 0) / (sorted.length || 1);
  return { count: sorted.length, mean, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

export const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/**
 * Latency at a smoothly paced offered rate: requests are sent on a fixed schedule (every 1/rate s,
 * catching up if a timer fires late) over a keep-alive pool, and each latency is measured from the
 * request's scheduled time, so a stalled server cannot hide queueing (no coordinated omission).
 * autocannon's overallRate sends each connection's share of a second back to back at the start
 * of the second; this complements it with the arrival pattern of a steady API server.
 */
export async function pacedLatency(port, caFile, path, body, duration, rate = 1000, warmup = 2) {
  const agent = agentFor(caFile, 64);
  // Warm-up on the same pool: the measured run must not pay for TLS handshakes.
  if (warmup > 0) await pacedRun(agent, port, path, body, warmup, rate);
  const result = await pacedRun(agent, port, path, body, duration, rate);
  agent.destroy();
  return result;
}

async function pacedRun(agent, port, path, body, duration, rate) {
  const samples = [];
  let failures = 0;
  const total = Math.round(duration * rate);
  const intervalNs = 1e9 / rate;
  const start = process.hrtime.bigint();
  const inflight = [];
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = Number(process.hrtime.bigint() - start);
      const due = Math.min(total, Math.floor(elapsed / intervalNs) + 1);
      while (sent < due) {
        const scheduledNs = start + BigInt(Math.round(sent * intervalNs));
        sent++;
        inflight.push(
          httpsRequest(agent, port, 'POST', path, body).then(
            (res) => {
              if (res.status === 200) samples.push(Number(process.hrtime.bigint() - scheduledNs) / 1e6);
              else failures++;
            },
            () => failures++,
          ),
        );
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(inflight);
  return { ...summarize(samples), failures };
}
