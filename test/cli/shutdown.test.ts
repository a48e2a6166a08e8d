/**
 * Graceful shutdown of the built program under load: SIGTERM while concurrent callers keep sending
 * over keep-alive connections. Nothing sent before or during the delay may fail; the process exits 0.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HttpsClient } from '../support/https-client.js';
import { ensureBuilt, REPO, startProgram, type RunningProgram } from '../support/built-program.js';

let dir: string;
let program: RunningProgram;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'shutdown-'));
});

afterAll(async () => {
  await program?.kill();
  rmSync(dir, { recursive: true, force: true });
});

it('loses no request sent before or during the shutdown delay', async () => {
  const DELAY_S = 6; // generous: a loaded CI machine must still fit its requests inside the delay
  program = startProgram(['serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--cert-dir', dir, '--shutdown-delay-seconds', String(DELAY_S)]);
  const { port } = await program.waitForLog((l) => l.msg === 'backend-webhook listening');
  const body = readFileSync(join(REPO, 'docs/examples/mutate-fqdn.json'), 'utf8');
  const uid = JSON.parse(body).request.uid;

  let signalledAt = 0;
  // Callers stop starting new requests well inside the delay; every one they start must succeed.
  const stopSendingAt = () => (signalledAt ? signalledAt + (DELAY_S * 1000) / 2 : Number.POSITIVE_INFINITY);
  const failures: string[] = [];
  let answered = 0;
  let answeredAfterSignal = 0;
  const worker = async (): Promise<void> => {
    const client = new HttpsClient(`https://localhost:${port}`, readFileSync(join(dir, 'ca.crt')));
    try {
      while (Date.now() < stopSendingAt()) {
        try {
          const res = await client.postJson('/mutate', body);
          if (res.status !== 200 || res.json?.response?.uid !== uid) failures.push(`status ${res.status}`);
          answered++;
          if (signalledAt) answeredAfterSignal++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    } finally {
      client.close();
    }
  };
  const workers = Array.from({ length: 8 }, () => worker());
  // Let load build up, then signal.
  await new Promise((r) => setTimeout(r, 500));
  program.child.kill('SIGTERM');
  signalledAt = Date.now();
  await Promise.all(workers);

  expect(failures).toEqual([]);
  expect(answered).toBeGreaterThan(0);
  expect(answeredAfterSignal).toBeGreaterThan(0);
  expect(await program.exited).toBe(0);
  expect(program.logs.some((l) => l.msg === 'shutdown: done' && l.code === 0)).toBe(true);
}, 60_000);
