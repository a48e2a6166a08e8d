/**
 * A stdout nobody reads must not freeze the server: the built program's stdout is a pipe (a FIFO)
 * whose reader never reads, as when a container runtime's log reader stalls. Once the pipe and the
 * log buffer are full, lines are dropped and counted, admissions and probes are still answered, and
 * SIGTERM still ends the process cleanly within delay + grace.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuilt, freePort, MAIN, REPO } from '../support/built-program.js';
import { HttpsClient, type HttpsResponse } from '../support/https-client.js';
import { httpGet } from '../support/http-get.js';

const DELAY_S = 1;
const GRACE_S = 5;
/** Generous: a loaded 2-core machine. A stalled process never answers at all. */
const ANSWER_WITHIN_MS = 20_000;

let dir: string;
const readFds: number[] = [];

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'stalled-stdout-'));
});

afterAll(() => {
  for (const fd of readFds.splice(0)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

function within<T>(promise: Promise<T>, what: string, ms = ANSWER_WITHIN_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (the server is stalled)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}


const droppedLines = (metrics: string): number => {
  const m = /^backend_webhook_log_lines_dropped_total (\d+)$/m.exec(metrics);
  if (!m) throw new Error('backend_webhook_log_lines_dropped_total missing from /metrics');
  return Number(m[1]);
};

it.each([
  ['a reader that never reads', false],
  ['a reader that is gone (EPIPE)', true],
])('with stdout to %s: keeps answering admissions and probes, counts dropped lines, exits cleanly on SIGTERM', async (reader, closeReader) => {
  // A FIFO whose read end we hold open and never read: writes fill its 64 KiB and then stall. Or,
  // once the server is up, the read end is closed: every write fails with EPIPE.
  const name = closeReader ? 'gone' : 'stalled';
  const fifo = join(dir, `${name}.fifo`);
  execFileSync('mkfifo', [fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  readFds.push(readFd);
  const writeFd = openSync(fifo, constants.O_WRONLY);
  const port = await freePort();
  const metricsPort = await freePort();
  const certDir = join(dir, `certs-${name}`);
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--port', String(port), '--host', '127.0.0.1', '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--cert-dir', certDir,
      '--shutdown-delay-seconds', String(DELAY_S), '--shutdown-grace-seconds', String(GRACE_S), '--log-buffer-size', '16Ki'],
    { cwd: REPO, stdio: ['ignore', writeFd, 'pipe'] },
  );
  closeSync(writeFd);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let client: HttpsClient | undefined;
  try {
    // Ready: /readyz answers 200 once every listener is up.
    const readyBy = Date.now() + 60_000;
    for (;;) {
      const status = await httpGet(metricsPort, '/readyz').then((r) => r.status, () => 0);
      if (status === 200) break;
      if (child.exitCode !== null || Date.now() > readyBy) throw new Error(`never ready; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(existsSync(join(certDir, 'ca.crt'))).toBe(true);
    if (closeReader) closeSync(readFds.splice(readFds.indexOf(readFd), 1)[0]!);
    client = new HttpsClient(`https://localhost:${port}`, readFileSync(join(certDir, 'ca.crt')));
    const body = JSON.parse(readFileSync(join(REPO, 'docs/examples/mutate-fqdn.json'), 'utf8'));
    const admit = async (n: number): Promise<HttpsResponse[]> =>
      within(Promise.all(Array.from({ length: n }, () => client!.postJson('/mutate', body))), `${n} admissions`);

    // One decision line per admission (about 300 bytes): 64 KiB of pipe and 16 KiB of buffer fill
    // after a few hundred. Keep sending until lines are being dropped.
    let sent = 0;
    let dropped = 0;
    while (dropped === 0) {
      if (sent >= 5000) throw new Error(`no line dropped after ${sent} admissions (${reader})`);
      const answers = await admit(50);
      sent += answers.length;
      expect(answers.every((a) => a.status === 200 && a.json?.response?.uid === body.request.uid)).toBe(true);
      dropped = droppedLines((await within(httpGet(metricsPort, '/metrics'), '/metrics')).text);
    }

    // stdout is full and stays full: the server goes on, and goes on counting what it cannot write.
    const after = await admit(40);
    expect(after.map((a) => a.status)).toEqual(Array(40).fill(200));
    expect(after.every((a) => a.json.response.allowed === true && a.json.response.uid === body.request.uid)).toBe(true);
    expect((await within(httpGet(metricsPort, '/healthz'), '/healthz')).status).toBe(200);
    expect((await within(client.send('GET', '/healthz'), 'HTTPS /healthz')).status).toBe(200);
    expect(droppedLines((await within(httpGet(metricsPort, '/metrics'), '/metrics')).text)).toBeGreaterThan(dropped);

    client.close();
    client = undefined;
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const exit = await within(exited, 'exit after SIGTERM', (DELAY_S + GRACE_S) * 1000 + 10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    // The contract with the kubelet: out within delay + grace, whatever stdout does.
    expect(exit.at - signalledAt).toBeLessThan((DELAY_S + GRACE_S) * 1000);
  } finally {
    client?.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}, 180_000);
