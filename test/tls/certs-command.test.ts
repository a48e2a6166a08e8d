import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCertsCommand, type CertsCommandOptions } from '../../src/cli/certs.js';
import { loadCertificatePair } from '../../src/tls/cert-files.js';
import { splitPemCertificates } from '../../src/tls/pem.js';
import { ensureBuilt, MAIN, ROOT } from '../cli/validate-cli.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bw-certs-cmd-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function capture() {
  const lines = { out: [] as string[], err: [] as string[] };
  return { lines, output: { out: (l: string) => void lines.out.push(l), err: (l: string) => void lines.err.push(l) } };
}

const options = (outDir: string, extra: Partial<CertsCommandOptions> = {}): CertsCommandOptions => ({
  outDir,
  dnsNames: [],
  ipAddresses: [],
  serviceName: 'hooks',
  namespace: 'platform',
  validityDays: 90,
  force: false,
  ...extra,
});

describe('runCertsCommand', () => {
  it('writes a CA and a serving certificate for the Service names plus extras, and lists what it wrote', async () => {
    const outDir = join(root, 'a');
    const { lines, output } = capture();
    expect(await runCertsCommand(options(outDir, { dnsNames: ['hooks.example.com'], ipAddresses: ['10.0.0.9'] }), output)).toBe(0);
    expect(lines.out.filter((l) => l.startsWith('wrote ')).map((l) => l.split(' ')[1])).toEqual(
      ['ca.crt', 'ca.key', 'ca-bundle.crt', 'tls.crt', 'tls.key'].map((f) => join(outDir, f)),
    );
    const pair = await loadCertificatePair(join(outDir, 'tls.crt'), join(outDir, 'tls.key'));
    const ca = new X509Certificate(readFileSync(join(outDir, 'ca.crt')));
    expect(pair.x509.verify(ca.publicKey)).toBe(true);
    for (const name of ['localhost', 'hooks.platform.svc', 'hooks.platform.svc.cluster.local', 'hooks.example.com']) expect(pair.x509.checkHost(name)).toBe(name);
    expect(pair.x509.checkIP('10.0.0.9')).toBe('10.0.0.9');
    expect(pair.x509.checkIP('::1')).toBe('::1');
    const days = (new Date(pair.x509.validTo).getTime() - new Date(pair.x509.validFrom).getTime()) / 86_400_000;
    expect(Math.round(days * 24)).toBe(90 * 24 + 1); // 90 days plus the hour of clock-skew allowance
    expect(statSync(join(outDir, 'tls.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(outDir, 'ca.key')).mode & 0o777).toBe(0o600);
  });

  it('does not overwrite existing files without force, and does with it', async () => {
    const outDir = join(root, 'b');
    expect(await runCertsCommand(options(outDir), capture().output)).toBe(0);
    const before = readFileSync(join(outDir, 'tls.crt'), 'utf8');
    const refused = capture();
    expect(await runCertsCommand(options(outDir), refused.output)).toBe(1);
    expect(refused.lines.err[0]).toMatch(/already exist; use --renew .*--rotate-ca, or --force/);
    expect(readFileSync(join(outDir, 'tls.crt'), 'utf8')).toBe(before);
    expect(await runCertsCommand(options(outDir, { force: true }), capture().output)).toBe(0);
    expect(readFileSync(join(outDir, 'tls.crt'), 'utf8')).not.toBe(before);
  });

  it('a bad IP address is a usage error (exit 2) and writes nothing', async () => {
    const outDir = join(root, 'c');
    const { lines, output } = capture();
    expect(await runCertsCommand(options(outDir, { ipAddresses: ['10.0.0.300'] }), output)).toBe(2);
    expect(lines.err).toEqual(['error: not an IP address: "10.0.0.300"']);
    expect(() => statSync(join(outDir, 'ca.crt'))).toThrow();
  });
});

describe('renewal keeps the CA; rotation overlaps the bundle', () => {
  const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;
  const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');
  const bundleOf = (dir: string): string[] => splitPemCertificates(read(dir, 'ca-bundle.crt')).map(fingerprint);
  const issuedBy = (dir: string, caPem: string): boolean => new X509Certificate(read(dir, 'tls.crt')).verify(new X509Certificate(caPem).publicKey);

  it('--renew: same ca.crt and ca.key, a new serving certificate from them', async () => {
    const dir = join(root, 'renew');
    expect(await runCertsCommand(options(dir), capture().output)).toBe(0);
    const [caCrt, caKey, bundle, leaf] = ['ca.crt', 'ca.key', 'ca-bundle.crt', 'tls.crt'].map((f) => read(dir, f));
    const { lines, output } = capture();
    expect(await runCertsCommand(options(dir, { renew: true, dnsNames: ['hooks.example.com'] }), output)).toBe(0);
    expect(read(dir, 'ca.crt')).toBe(caCrt);
    expect(read(dir, 'ca.key')).toBe(caKey);
    expect(bundleOf(dir)).toEqual(splitPemCertificates(bundle!).map(fingerprint));
    expect(bundleOf(dir)).toEqual([fingerprint(caCrt!)]);
    expect(read(dir, 'tls.crt')).not.toBe(leaf);
    expect(issuedBy(dir, caCrt!)).toBe(true);
    expect(new X509Certificate(read(dir, 'tls.crt')).checkHost('hooks.example.com')).toBe('hooks.example.com');
    expect(lines.out[0]).toMatch(/^wrote .*tls\.crt and .*tls\.key \(serving certificate from the CA in/);
  });

  it('--rotate-ca: a new CA, the bundle holds old and new, the serving certificate stays; then --renew moves it', async () => {
    const dir = join(root, 'rotate');
    expect(await runCertsCommand(options(dir), capture().output)).toBe(0);
    const oldCa = read(dir, 'ca.crt');
    const oldLeaf = read(dir, 'tls.crt');
    const rotated = capture();
    expect(await runCertsCommand(options(dir, { rotateCa: true }), rotated.output)).toBe(0);
    const newCa = read(dir, 'ca.crt');
    expect(newCa).not.toBe(oldCa);
    expect(bundleOf(dir)).toEqual([fingerprint(oldCa), fingerprint(newCa)]);
    expect(read(dir, 'tls.crt')).toBe(oldLeaf); // still served, still trusted through the bundle
    expect(rotated.lines.out.join('\n')).toMatch(/2 CAs/);
    expect(rotated.lines.out.join('\n')).toMatch(/inject .*ca-bundle\.crt, then run certs --renew/);

    expect(await runCertsCommand(options(dir, { renew: true }), capture().output)).toBe(0);
    expect(read(dir, 'ca.crt')).toBe(newCa);
    expect(issuedBy(dir, newCa)).toBe(true);
    expect(bundleOf(dir)).toEqual([fingerprint(oldCa), fingerprint(newCa)]); // old CA kept until it expires
  });

  it('--renew or --rotate-ca without a CA in the directory says what to run first (exit 1); with --force or together: usage (exit 2)', async () => {
    const dir = join(root, 'nothing-here');
    const { lines, output } = capture();
    expect(await runCertsCommand(options(dir, { renew: true }), output)).toBe(1);
    expect(lines.err[0]).toMatch(/ca\.crt and .*ca\.key not found; run `certs --out-dir .*` first/);
    expect(await runCertsCommand(options(dir, { renew: true, rotateCa: true }), capture().output)).toBe(2);
    expect(await runCertsCommand(options(dir, { renew: true, force: true }), capture().output)).toBe(2);
  });
});

describe('the built program', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);

  /** Runs `node dist/main.js certs ...`; `closeStdout` closes our end of its stdout at once (as `| head` does). */
  function runCerts(args: string[], closeStdout = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [MAIN, 'certs', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      if (closeStdout) child.stdout.destroy();
      else child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      // A hang guard, not a speed assertion: the bug was spinning forever.
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('an --out-dir that cannot be created (/proc/x) ends with exit 2 and one line, never spins', async () => {
    const run = await runCerts(['--out-dir', '/proc/backend-webhook-test/x']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: cannot write to \/proc\/backend-webhook-test\/x: /)]);
  }, 150_000);

  it('a closed standard output (| head) ends with exit 2 and one line, no stack', async () => {
    const run = await runCerts(['--out-dir', join(root, 'epipe')], true);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['error: standard output was closed before all output was written (EPIPE)']);
  }, 150_000);
});
