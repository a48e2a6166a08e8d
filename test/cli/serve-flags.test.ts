/**
 * `serve` flags the README promises, through the BUILT program: --body-limit with units,
 * --max-depth, --log-level, --metrics-port 0, --inject-ca with --webhook-config-name (against the
 * API stand-in), a comma-separated list in an environment variable, and the shutdown grace and
 * second-signal exit.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig, serveCommand } from '../../src/cli/serve-command.js';
import { splitPemCertificates } from '../../src/tls/pem.js';
import { ensureBuilt, freePort, startProgram, type RunningProgram } from '../support/built-program.js';
import { FakeApiServer, MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS, type KubeObject } from '../support/fake-apiserver.js';
import { HttpsClient } from '../support/https-client.js';
import { backend, openaiBackend, review } from '../support/reviews.js';

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'serve-flags-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** TCP ports the process `pid` listens on (Linux: its socket inodes matched in /proc/net/tcp*). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

function webhookConfiguration(name: string): KubeObject {
  return {
    metadata: { name },
    webhooks: [{ name: 'backends.example.com', clientConfig: { service: { name: 'backend-webhook', namespace: 'backend-webhook-system', path: '/validate' } }, admissionReviewVersions: ['v1'], sideEffects: 'None' }],
  };
}

describe('flags, through one run of the built program', () => {
  let api: FakeApiServer;
  let program: RunningProgram;
  let client: HttpsClient;
  let port: number;

  beforeAll(async () => {
    api = await FakeApiServer.start([VALIDATING_WEBHOOKS, MUTATING_WEBHOOKS]);
    for (const resource of [VALIDATING_WEBHOOKS, MUTATING_WEBHOOKS]) {
      api.create(resource, webhookConfiguration('team-webhook'));
      api.create(resource, webhookConfiguration('backend-webhook'));
    }
    port = await freePort();
    program = startProgram(
      // prettier-ignore
      ['serve', '--port', String(port), '--host', '127.0.0.1', '--cert-dir', dir, '--metrics-port', '0', '--log-level', 'warn',
        '--body-limit', '2Ki', '--max-depth', '16', '--inject-ca', '--kubeconfig', api.writeKubeconfig(dir), '--webhook-config-name', 'team-webhook'],
      // A repeatable flag from the environment: one value, a comma-separated list.
      { BACKEND_WEBHOOK_DENIED_CIDR: '8.8.4.0/24, 1.1.1.1/32' },
    );
    // --log-level warn: no 'listening' line to wait for; wait for the CA, then for readiness.
    await until(() => (existsSync(join(dir, 'ca.crt')) ? true : undefined), 'the generated CA');
    client = new HttpsClient(`https://localhost:${port}`, readFileSync(join(dir, 'ca.crt')));
    await until(async () => ((await client.send('GET', '/readyz')).status === 200 ? true : undefined), 'readiness');
  }, 90_000);

  afterAll(async () => {
    client?.close();
    await program?.kill();
    await api?.close();
  });

  const validate = async (object: unknown) => (await client.postJson('/validate', review(object))).json.response;
  const ipBackend = (address: string) => backend({ destination: { type: 'Ip', ip: { address }, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.example.com' } }] } });

  it('BACKEND_WEBHOOK_DENIED_CIDR holds a comma-separated list: every range in it is refused', async () => {
    expect((await validate(ipBackend('8.8.8.8'))).allowed).toBe(true);
    for (const address of ['8.8.4.4', '1.1.1.1']) {
      const r = await validate(ipBackend(address));
      expect(r.allowed, address).toBe(false);
      expect(r.status.details.causes.map((c: any) => c.field)).toEqual(['spec.destination.ip.address']);
    }
  });

  it('--max-depth 16: deeper JSON is refused in-band, shallower is judged', async () => {
    const nested = (levels: number) => {
      const body = review(openaiBackend());
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = [value];
      body.request.object.spec.extensions = [{ name: 'x', type: 'example.com/Unknown', rawConfig: { v: value } }];
      return body;
    };
    // The review itself is 8 levels deep at rawConfig's members.
    const shallow = (await client.postJson('/validate', nested(4))).json.response;
    expect(shallow.auditAnnotations['bad-request']).toBeUndefined();
    const deep = (await client.postJson('/validate', nested(12))).json.response;
    expect(deep.auditAnnotations['bad-request']).toBe('TOO_DEEP');
  });

  it('--body-limit 2Ki (a Kubernetes quantity): 2048 bytes are the limit', async () => {
    const small = review(openaiBackend());
    expect(Buffer.byteLength(JSON.stringify(small))).toBeLessThan(2048);
    expect((await client.postJson('/validate', small)).json.response.allowed).toBe(true);
    const big = review(openaiBackend());
    big.request.object.metadata.annotations = { note: 'x'.repeat(2100) };
    const res = await client.postJson('/validate', big);
    expect(res.status).toBe(200);
    expect(res.json.response.uid).toBe(big.request.uid);
    expect(res.json.response.auditAnnotations['bad-request']).toBe('BODY_TOO_LARGE');
    expect(res.json.response.status.message).toContain('2048 bytes');
  });

  it('--log-level warn: the refusal is logged, no info line (no decision lines, no start-up line)', async () => {
    await program.waitForLog((l) => l.msg === 'admission request refused' && l.code === 'BODY_TOO_LARGE');
    expect(program.logs.length).toBeGreaterThan(0);
    expect(program.logs.filter((l) => !(l.level >= 40))).toEqual([]);
  });

  it('--metrics-port 0: no metrics listener, only the HTTPS port', () => {
    if (!existsSync(`/proc/${program.child.pid}/fd`)) return void console.log('skipped: no /proc to list the listening ports');
    expect(listeningPorts(program.child.pid!)).toEqual([port]);
  });

  it('--inject-ca with --webhook-config-name: our CA lands in the named configurations only', async () => {
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8').trim();
    const bundleOf = (resource: typeof VALIDATING_WEBHOOKS, name: string): string[] => {
      const b64 = (api.get(resource, undefined, name)?.webhooks as Array<{ clientConfig: { caBundle?: string } }>)[0]!.clientConfig.caBundle;
      return b64 ? splitPemCertificates(Buffer.from(b64, 'base64').toString('utf8')).map((p) => p.trim()) : [];
    };
    for (const resource of [VALIDATING_WEBHOOKS, MUTATING_WEBHOOKS]) {
      await until(() => (bundleOf(resource, 'team-webhook').includes(ca) ? true : undefined), `the CA in ${resource.plural}/team-webhook`, 30_000);
      expect(bundleOf(resource, 'backend-webhook'), 'the default-named configuration is not ours here').toEqual([]);
    }
  });
});

describe('shutdown', () => {
  it('--shutdown-grace-seconds 2: a request still in flight when the grace ends is cut and the process exits 1 then', async () => {
    const port = await freePort();
    const program = startProgram(['serve', '--port', String(port), '--host', '127.0.0.1', '--cert-dir', dir, '--metrics-port', '0', '--shutdown-delay-seconds', '0', '--shutdown-grace-seconds', '2']);
    try {
      await program.waitForLog((l) => l.msg === 'backend-webhook listening', 60_000);
      // In flight: headers and part of a body sent, the rest never comes (its own deadline is 30 s).
      const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(join(dir, 'ca.crt')), servername: 'localhost' });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
      socket.write('POST /validate?timeout=30s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"apiVersion":');
      // The server has taken the request when a second, complete one on another connection is answered after it.
      const probe = new HttpsClient(`https://localhost:${port}`, readFileSync(join(dir, 'ca.crt')));
      expect((await probe.postJson('/validate', review(openaiBackend()))).status).toBe(200);
      probe.close();
      const signalledAt = Date.now();
      program.child.kill('SIGTERM');
      const code = await program.exited;
      const tookMs = Date.now() - signalledAt;
      socket.destroy();
      expect(code).toBe(1);
      expect(program.logs.some((l) => /grace period over/.test(l.msg ?? ''))).toBe(true);
      // Not before the grace, and not at the request's own 30 s deadline either.
      expect(tookMs).toBeGreaterThanOrEqual(1_900);
      expect(tookMs).toBeLessThan(2_000 + 10_000);
    } finally {
      await program.kill();
    }
  }, 90_000);

  it('a second SIGTERM during the shutdown delay exits at once with code 1', async () => {
    const port = await freePort();
    const program = startProgram(['serve', '--port', String(port), '--host', '127.0.0.1', '--cert-dir', dir, '--metrics-port', '0', '--shutdown-delay-seconds', '60']);
    try {
      await program.waitForLog((l) => l.msg === 'backend-webhook listening', 60_000);
      program.child.kill('SIGTERM');
      await program.waitForLog((l) => /shutdown: not ready/.test(l.msg ?? ''));
      const secondAt = Date.now();
      program.child.kill('SIGTERM');
      const code = await program.exited;
      expect(code).toBe(1);
      // Far inside the 60 s delay the first signal started.
      expect(Date.now() - secondAt).toBeLessThan(15_000);
      expect(program.logs.some((l) => l.msg === 'second signal: exiting now')).toBe(true);
    } finally {
      await program.kill();
    }
  }, 90_000);
});

describe('environment variables (in-process, through the serve command definition)', () => {
  async function configFrom(env: Record<string, string>, args: string[] = []) {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      let config: ReturnType<typeof resolveServeConfig> | undefined;
      await serveCommand()
        .action((raw) => {
          config = resolveServeConfig(raw);
        })
        .parseAsync(args, { from: 'user' });
      return config!;
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }

  it('a repeatable flag takes a comma-separated list from its variable; the flag on the command line wins', async () => {
    const config = await configFrom({ BACKEND_WEBHOOK_TRUSTED_NAMESPACE: 'platform, team-a,,team-b', BACKEND_WEBHOOK_MCP_VERSION: '2025-06-18,2025-03-26', BACKEND_WEBHOOK_DENIED_CIDR: '8.8.4.0/24,1.1.1.1/32' });
    expect(config.trustedNamespaces).toEqual(['platform', 'team-a', 'team-b']);
    expect(config.validation.mcpVersions).toEqual(['2025-06-18', '2025-03-26']);
    expect(config.validation.extraDeniedCidrs).toEqual(['8.8.4.0/24', '1.1.1.1/32']);
    expect((await configFrom({ BACKEND_WEBHOOK_TRUSTED_NAMESPACE: 'a,b' }, ['--trusted-namespace', 'c'])).trustedNamespaces).toEqual(['c']);
  });

  it('--body-limit takes Kubernetes quantities, from the flag or the variable', async () => {
    for (const [value, bytes] of [['7Mi', 7 * 1024 ** 2], ['512Ki', 512 * 1024], ['8M', 8_000_000], ['2k', 2000], ['7340032', 7340032]] as const) {
      expect((await configFrom({}, ['--body-limit', value])).bodyLimit, value).toBe(bytes);
      expect((await configFrom({ BACKEND_WEBHOOK_BODY_LIMIT: value })).bodyLimit, value).toBe(bytes);
    }
  });
});
