/**
 * Our certificates through a real Go TLS client. kubectl parses the CA and verifies the serving
 * certificate, its SANs and chain with Go's crypto/x509, exactly as kube-apiserver does when it
 * calls a webhook; OpenSSL and Node accept certificates Go refuses, so only this proves it.
 * Through the built program, for each way `serve` gets its certificate.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuilt, runProgram, startProgram, type RunningProgram } from '../support/built-program.js';
import { kubectl, writeKubeconfig } from '../support/kubectl.js';
import { describeWithTool } from '../support/external-tool.js';
import { legacyCa, legacyLeaf } from './legacy-certs.js';

const KUBECTL = 'kubectl';

describeWithTool(KUBECTL, 'Go TLS client (kubectl)', () => {
  let root: string;
  const programs: RunningProgram[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    root = mkdtempSync(join(tmpdir(), 'bw-go-client-'));
  });
  afterAll(async () => {
    await Promise.all(programs.map((p) => p.kill()));
    rmSync(root, { recursive: true, force: true });
  });

  async function serve(args: string[]): Promise<{ program: RunningProgram; port: number }> {
    const program = startProgram(['serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--shutdown-delay-seconds', '0', ...args]);
    programs.push(program);
    const port = (await program.waitForLog((l) => l.msg === 'backend-webhook listening')).port as number;
    return { program, port };
  }

  /** `kubectl get --raw /healthz` against https://<host>:<port> trusting `caFile`. */
  async function healthz(host: string, port: number, caFile: string) {
    const name = `c${Math.random().toString(36).slice(2, 8)}`;
    const config = writeKubeconfig(root, name, { server: `https://${host}:${port}`, caPem: readFileSync(caFile, 'utf8') });
    return kubectl(KUBECTL, ['--kubeconfig', config, '--request-timeout', '20s', 'get', '--raw', '/healthz'], { home: root });
  }

  const OK = /"status":\s*"ok"/;

  it('control: a chain with a PrintableString holding "@" (as releases before the fix made) is refused by Go', async () => {
    const ca = legacyCa();
    const leaf = legacyLeaf(ca);
    const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end('{"status":"ok"}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const dir = join(root, 'legacy-control');
      mkdirSync(dir);
      writeFileSync(join(dir, 'ca.crt'), ca.certPem);
      const result = await healthz('127.0.0.1', (server.address() as AddressInfo).port, join(dir, 'ca.crt'));
      expect(result.code).not.toBe(0);
      expect(result.stdout).not.toMatch(OK);
      expect(result.stderr).toMatch(/PrintableString|x509|certificate/i);
    } finally {
      server.close();
    }
  });

  it('serve with self-generated certificates: verified by IP and by DNS SAN', async () => {
    const certDir = join(root, 'self');
    const { port } = await serve(['--cert-dir', certDir]);
    for (const host of ['127.0.0.1', 'localhost']) {
      const result = await healthz(host, port, join(certDir, 'ca-bundle.crt'));
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(OK);
      expect(result.code).toBe(0);
    }
  });

  it('`certs` output served through --tls-cert-file, then a certificate from a new CA hot-reloaded', async () => {
    const first = join(root, 'certs-a');
    const second = join(root, 'certs-b');
    expect(runProgram(['certs', '--out-dir', first]).code).toBe(0);
    expect(runProgram(['certs', '--out-dir', second]).code).toBe(0);
    const live = join(root, 'live');
    mkdirSync(live);
    copyFileSync(join(first, 'tls.crt'), join(live, 'tls.crt'));
    copyFileSync(join(first, 'tls.key'), join(live, 'tls.key'));
    const { program, port } = await serve(['--tls-cert-file', join(live, 'tls.crt'), '--tls-key-file', join(live, 'tls.key'), '--cert-dir', join(root, 'unused')]);
    const before = await healthz('127.0.0.1', port, join(first, 'ca.crt'));
    expect(before.stderr).toBe('');
    expect(before.stdout).toMatch(OK);

    // Rotate to the second CA's leaf: key first, then certificate, each by rename (as a Secret update does).
    copyFileSync(join(second, 'tls.key'), join(live, 'tls.key.new'));
    copyFileSync(join(second, 'tls.crt'), join(live, 'tls.crt.new'));
    renameSync(join(live, 'tls.key.new'), join(live, 'tls.key'));
    renameSync(join(live, 'tls.crt.new'), join(live, 'tls.crt'));
    await program.waitForLog((l) => l.msg === 'serving certificate reloaded', 40_000);

    const after = await healthz('127.0.0.1', port, join(second, 'ca.crt'));
    expect(after.stderr).toBe('');
    expect(after.stdout).toMatch(OK);
    // And the old CA no longer verifies what is served: the rotation really happened.
    const stale = await healthz('127.0.0.1', port, join(first, 'ca.crt'));
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toMatch(/x509|certificate/i);
  });

  it('a leaf renewed at start-up (inside the renewal window) is verified', async () => {
    const certDir = join(root, 'renew');
    expect(runProgram(['certs', '--out-dir', certDir, '--validity-days', '5']).code).toBe(0);
    const oldLeaf = readFileSync(join(certDir, 'tls.crt'), 'utf8');
    const { program, port } = await serve(['--cert-dir', certDir, '--cert-renew-before-days', '30']);
    const checked = await program.waitForLog((l) => l.msg === 'self-managed certificates checked');
    expect(checked.action).toBe('renewed-leaf');
    expect(readFileSync(join(certDir, 'tls.crt'), 'utf8')).not.toBe(oldLeaf);
    const result = await healthz('localhost', port, join(certDir, 'ca.crt'));
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(OK);
  });

  it('a self-managed directory from an older release (CA Go cannot parse) is replaced at start-up and then verified', async () => {
    const certDir = join(root, 'legacy-self');
    mkdirSync(certDir);
    const ca = legacyCa();
    const leaf = legacyLeaf(ca);
    writeFileSync(join(certDir, 'ca.crt'), ca.certPem);
    writeFileSync(join(certDir, 'ca.key'), ca.keyPem);
    writeFileSync(join(certDir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(certDir, 'tls.key'), leaf.keyPem);
    const { program, port } = await serve(['--cert-dir', certDir]);
    const checked = await program.waitForLog((l) => l.msg === 'self-managed certificates checked');
    expect(checked.action).toBe('generated');
    expect(checked.reasons.join(' ')).toMatch(/Go's crypto\/x509 .*cannot parse it/);
    const result = await healthz('127.0.0.1', port, join(certDir, 'ca-bundle.crt'));
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(OK);
  });

  it('a mounted directory (no ca.key) holding such a certificate stops start-up with one line, exit 2', async () => {
    const certDir = join(root, 'legacy-mounted');
    mkdirSync(certDir);
    const leaf = legacyLeaf(legacyCa());
    writeFileSync(join(certDir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(certDir, 'tls.key'), leaf.keyPem);
    const program = startProgram(['serve', '--port', '0', '--metrics-port', '0', '--cert-dir', certDir]);
    programs.push(program);
    const code = await Promise.race([program.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
    expect(code).toBe(2);
  });
}, ['version', '--client'], { timeout: 120_000 });
