import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { generateCa, generateClientCertificate, generateServingBundle, generateServingCertificate, type CertificateKeyPair } from '../../src/tls/generate.js';
import { secureContextOptions, serverTlsOptions } from '../../src/tls/options.js';
import { CertificateReloader, type ReloadedCertificate } from '../../src/tls/reloader.js';
import { handshake, listen } from './support.js';

const DAY = 86_400_000;

let root: string;
let ca: CertificateKeyPair;
let leafA: CertificateKeyPair;
let leafB: CertificateKeyPair;
let leafC: CertificateKeyPair;
const fingerprint = (pair: CertificateKeyPair): string => new X509Certificate(pair.certPem).fingerprint256;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bw-reloader-'));
  ({ ca, serving: leafA } = generateServingBundle({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }));
  leafB = generateServingCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  leafC = generateServingCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A directory laid out like a mounted Kubernetes Secret: tls.crt -> ..data/tls.crt, and ..data a
 * symlink to a timestamped directory that an update replaces with one atomic rename.
 */
class SecretVolume {
  private generation = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  get certFile(): string {
    return join(this.dir, 'tls.crt');
  }

  get keyFile(): string {
    return join(this.dir, 'tls.key');
  }

  update(files: Record<string, string>): void {
    const previous = this.generation === 0 ? undefined : readlinkSync(join(this.dir, '..data'));
    const version = `..gen_${++this.generation}`;
    mkdirSync(join(this.dir, version));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, version, name), content);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (previous === undefined) {
      for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(this.dir, name));
    } else {
      rmSync(join(this.dir, previous), { recursive: true });
    }
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Served {
  status: number;
  fingerprint: string;
}

function get(port: number, agent: https.Agent): Promise<Served> {
  return new Promise((resolve, reject) => {
    // Read the peer certificate as soon as the socket is secure: a closing socket forgets it.
    let peer = '';
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint: peer }));
      res.on('error', reject);
    });
    req.on('socket', (socket) => {
      const tlsSocket = socket as TLSSocket;
      const read = (): void => {
        peer = tlsSocket.getPeerCertificate().fingerprint256;
      };
      if (tlsSocket.encrypted && !tlsSocket.connecting && tlsSocket.authorized) read();
      else tlsSocket.once('secureConnect', read);
    });
    req.on('error', reject);
  });
}

/** An HTTPS server whose TLS context follows the reloader, as `serve` wires it. */
async function startServer(options: { certFile: string; keyFile: string; metrics: Metrics; debounceMs?: number; pollIntervalMs?: number }) {
  let server: https.Server | undefined;
  const reloads: ReloadedCertificate[] = [];
  const reloader = new CertificateReloader({
    certFile: options.certFile,
    keyFile: options.keyFile,
    metrics: options.metrics,
    debounceMs: options.debounceMs ?? 50,
    pollIntervalMs: options.pollIntervalMs ?? 0,
    onReload: (certificate) => {
      reloads.push(certificate);
      server?.setSecureContext(secureContextOptions(certificate));
    },
  });
  const initial = await reloader.start();
  server = https.createServer(serverTlsOptions(initial), (_req, res) => res.end('ok'));
  const started = await listen(server);
  cleanups.push(() => started.close(), () => reloader.stop());
  return { reloader, reloads, port: started.port };
}

const reloadCount = async (metrics: Metrics, result: 'success' | 'error'): Promise<number> =>
  (await metrics.certificateReloads.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
const lastReloadSuccessful = async (metrics: Metrics): Promise<number | undefined> => (await metrics.certificateLastReloadSuccessful.get()).values[0]?.value;

describe('certificate rotation under load', () => {
  it('replacing the files while a client keeps calling loses no request, and new connections get the new certificate', async () => {
    const volume = new SecretVolume(join(root, 'secret'));
    volume.update({ 'tls.crt': leafA.certPem, 'tls.key': leafA.keyPem, 'ca.crt': ca.certPem });
    const metrics = new Metrics();
    // Polling off: the directory watch alone must notice the ..data swap.
    const { reloader, port } = await startServer({ certFile: volume.certFile, keyFile: volume.keyFile, metrics, pollIntervalMs: 0 });

    const agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: ca.certPem });
    cleanups.push(() => agent.destroy());
    const results: Served[] = [];
    const errors: Error[] = [];
    let running = true;
    const callers = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          results.push(await get(port, agent));
        } catch (error) {
          errors.push(error as Error);
        }
      }
    });

    await until(() => results.length >= 20, 'requests before the rotation');
    volume.update({ 'tls.crt': leafB.certPem, 'tls.key': leafB.keyPem, 'ca.crt': ca.certPem });
    await until(() => reloader.current?.fingerprint === fingerprint(leafB), 'the reload');
    const atReload = results.length;
    await until(() => results.length >= atReload + 40, 'requests after the rotation');
    running = false;
    await Promise.all(callers);

    expect(errors).toEqual([]);
    expect(results.every((r) => r.status === 200)).toBe(true);
    // Kept-alive connections were not dropped: they still speak over the certificate they opened with.
    expect(results.slice(atReload).some((r) => r.fingerprint === fingerprint(leafA))).toBe(true);

    const fresh = new https.Agent({ keepAlive: false, maxCachedSessions: 0, ca: ca.certPem });
    cleanups.push(() => fresh.destroy());
    expect(await get(port, fresh)).toEqual({ status: 200, fingerprint: fingerprint(leafB) });
    expect(await reloadCount(metrics, 'success')).toBe(1);
    expect((await metrics.certificateExpiry.get()).values[0]?.value).toBe(Math.floor(leafB.notAfter.getTime() / 1000));
  });

  it('a mismatched or half-written pair is refused, counted once, and the old certificate stays in force', async () => {
    const dir = join(root, 'plain');
    mkdirSync(dir);
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    const replace = (file: string, content: string): void => {
      writeFileSync(`${file}.tmp`, content);
      renameSync(`${file}.tmp`, file);
    };
    replace(certFile, leafA.certPem);
    replace(keyFile, leafA.keyPem);
    const metrics = new Metrics();
    const { reloader, reloads, port } = await startServer({ certFile, keyFile, metrics, pollIntervalMs: 100 });
    const fresh = new https.Agent({ keepAlive: false, maxCachedSessions: 0, ca: ca.certPem });
    cleanups.push(() => fresh.destroy());
    expect(await lastReloadSuccessful(metrics)).toBe(1);

    replace(certFile, leafB.certPem); // key still A's
    await untilAsync(async () => (await reloadCount(metrics, 'error')) === 1, 'the mismatch to be counted');
    expect(await lastReloadSuccessful(metrics)).toBe(0);
    expect(reloader.current?.fingerprint).toBe(fingerprint(leafA));
    expect(await get(port, fresh)).toEqual({ status: 200, fingerprint: fingerprint(leafA) });
    expect(await reloader.reload()).toBe('rejected');
    expect(await reloadCount(metrics, 'error')).toBe(1); // the same bad state is not recounted by every poll

    replace(certFile, leafC.certPem.slice(0, 700)); // half a file
    replace(keyFile, leafC.keyPem);
    await untilAsync(async () => (await reloadCount(metrics, 'error')) === 2, 'the truncated file to be counted');
    expect(await get(port, fresh)).toEqual({ status: 200, fingerprint: fingerprint(leafA) });

    replace(certFile, leafC.certPem);
    await until(() => reloader.current?.fingerprint === fingerprint(leafC), 'the good pair');
    expect(await get(port, fresh)).toEqual({ status: 200, fingerprint: fingerprint(leafC) });
    expect(reloads.map((r) => r.fingerprint)).toEqual([fingerprint(leafC)]);
    expect(await reloadCount(metrics, 'success')).toBe(1);
    expect(await lastReloadSuccessful(metrics)).toBe(1);
  });

  it('a bad write that is undone clears the reload-failure gauge without a reload, and a repeat is counted again', async () => {
    const dir = join(root, 'undone');
    mkdirSync(dir);
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    writeFileSync(certFile, leafA.certPem);
    writeFileSync(keyFile, leafA.keyPem);
    const metrics = new Metrics();
    // Only the explicit reload() calls read the files (the watch's debounce outlasts the test).
    const { reloader } = await startServer({ certFile, keyFile, metrics, debounceMs: 600_000, pollIntervalMs: 0 });
    writeFileSync(certFile, leafB.certPem); // key still A's
    expect(await reloader.reload()).toBe('rejected');
    expect(await lastReloadSuccessful(metrics)).toBe(0);
    writeFileSync(certFile, leafA.certPem);
    expect(await reloader.reload()).toBe('unchanged');
    expect(await lastReloadSuccessful(metrics)).toBe(1);
    writeFileSync(certFile, leafB.certPem);
    expect(await reloader.reload()).toBe('rejected');
    expect(await reloadCount(metrics, 'error')).toBe(2);
    expect(await lastReloadSuccessful(metrics)).toBe(0);
  });

  it('polling picks up a change the watch has not delivered yet', async () => {
    const dir = join(root, 'polled');
    mkdirSync(dir);
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    writeFileSync(certFile, leafA.certPem);
    writeFileSync(keyFile, leafA.keyPem);
    // A debounce far longer than the test: only the poll can deliver the change.
    const { reloader } = await startServer({ certFile, keyFile, metrics: new Metrics(), debounceMs: 600_000, pollIntervalMs: 100 });
    writeFileSync(`${keyFile}.tmp`, leafB.keyPem);
    renameSync(`${keyFile}.tmp`, keyFile);
    writeFileSync(`${certFile}.tmp`, leafB.certPem);
    renameSync(`${certFile}.tmp`, certFile);
    await until(() => reloader.current?.fingerprint === fingerprint(leafB), 'the polled reload');
  });
});

describe('reloading with client certificates required', () => {
  it('keeps requiring client certificates after a reload, and follows a changed client CA file', async () => {
    const dir = join(root, 'mtls');
    mkdirSync(dir);
    const files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), clientCa: join(dir, 'client-ca.crt') };
    const replace = (file: string, content: string): void => {
      writeFileSync(`${file}.tmp`, content);
      renameSync(`${file}.tmp`, file);
    };
    const clientCaA = generateCa({ commonName: 'client-ca-a' });
    const clientCaB = generateCa({ commonName: 'client-ca-b' });
    const clientA = generateClientCertificate(clientCaA, { commonName: 'kube-apiserver' });
    const clientB = generateClientCertificate(clientCaB, { commonName: 'kube-apiserver' });
    replace(files.cert, leafA.certPem);
    replace(files.key, leafA.keyPem);
    replace(files.clientCa, clientCaA.certPem);

    let server: https.Server | undefined;
    const reloader = new CertificateReloader({
      certFile: files.cert,
      keyFile: files.key,
      clientCaFile: files.clientCa,
      debounceMs: 50,
      pollIntervalMs: 100,
      onReload: (certificate) => server?.setSecureContext(secureContextOptions(certificate)),
    });
    const initial = await reloader.start();
    expect(initial.clientCa).toBe(clientCaA.certPem);
    server = https.createServer(serverTlsOptions(initial), (_req, res) => res.end('ok'));
    const started = await listen(server);
    cleanups.push(() => started.close(), () => reloader.stop());
    const connect = (client?: CertificateKeyPair) =>
      handshake(started.port, { ca: ca.certPem, servername: 'localhost', ...(client ? { cert: client.certPem, key: client.keyPem } : {}) });

    expect(await connect(clientA)).toMatchObject({ ok: true, fingerprint: fingerprint(leafA) });
    expect(await connect()).toMatchObject({ ok: false });

    replace(files.key, leafB.keyPem);
    replace(files.cert, leafB.certPem);
    await until(() => reloader.current?.fingerprint === fingerprint(leafB), 'the serving certificate reload');
    expect(await connect(clientA)).toMatchObject({ ok: true, fingerprint: fingerprint(leafB) });
    expect(await connect()).toMatchObject({ ok: false });
    expect(await connect(clientB)).toMatchObject({ ok: false });

    replace(files.clientCa, clientCaB.certPem);
    await until(() => reloader.current?.clientCa === clientCaB.certPem, 'the client CA reload');
    expect(await connect(clientB)).toMatchObject({ ok: true, fingerprint: fingerprint(leafB) });
    expect(await connect(clientA)).toMatchObject({ ok: false });
  });
});

async function untilAsync(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('self-managed renewal', () => {
  it('renews the leaf and then rotates the CA in time, reloading each and reporting the rotation', async () => {
    const certDir = join(root, 'self-managed');
    let now = new Date();
    const renewed: string[] = [];
    const reloads: ReloadedCertificate[] = [];
    const reloader = new CertificateReloader({
      certFile: join(certDir, 'tls.crt'),
      keyFile: join(certDir, 'tls.key'),
      pollIntervalMs: 0,
      onReload: (certificate) => reloads.push(certificate),
      now: () => now,
      selfManaged: { certDir, renewBefore: 30 * DAY, caValidityDays: 100, leafValidityDays: 40, onRenewed: (set) => void renewed.push(set.action) },
    });
    cleanups.push(() => reloader.stop());
    const initial = await reloader.start(); // generates the set
    const caBefore = new X509Certificate(readCa(certDir));

    expect((await reloader.renewNow())?.action).toBe('unchanged');
    now = new Date(now.getTime() + 11 * DAY);
    expect((await reloader.renewNow())?.action).toBe('renewed-leaf');
    expect(reloader.current?.fingerprint).not.toBe(initial.fingerprint);
    expect(new X509Certificate(reloader.current!.cert).verify(caBefore.publicKey)).toBe(true);

    now = new Date(now.getTime() + 60 * DAY); // CA has 29 days left
    expect((await reloader.renewNow())?.action).toBe('rotated-ca');
    const caAfter = new X509Certificate(readCa(certDir));
    expect(caAfter.fingerprint256).not.toBe(caBefore.fingerprint256);
    expect(new X509Certificate(reloader.current!.cert).verify(caAfter.publicKey)).toBe(true);
    expect(renewed).toEqual(['renewed-leaf', 'rotated-ca']);
    expect(reloads).toHaveLength(2);
  });

  it('checks on its own timer', async () => {
    const certDir = join(root, 'self-managed-timer');
    let now = new Date();
    const reloader = new CertificateReloader({
      certFile: join(certDir, 'tls.crt'),
      keyFile: join(certDir, 'tls.key'),
      pollIntervalMs: 0,
      onReload: () => undefined,
      now: () => now,
      selfManaged: { certDir, renewBefore: 30 * DAY, leafValidityDays: 40, checkIntervalMs: 50 },
    });
    cleanups.push(() => reloader.stop());
    const initial = await reloader.start();
    now = new Date(now.getTime() + 20 * DAY);
    await until(() => reloader.current?.fingerprint !== initial.fingerprint, 'the timed renewal');
  });

  it('refuses to start on an unusable pair (nothing older to fall back on)', async () => {
    const dir = join(root, 'unusable');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tls.crt'), leafA.certPem);
    writeFileSync(join(dir, 'tls.key'), generateCa().keyPem);
    const reloader = new CertificateReloader({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), onReload: () => undefined });
    await expect(reloader.start()).rejects.toMatchObject({ name: 'CertificateError', code: 'KEY_MISMATCH' });
    reloader.stop();
  });
});

function readCa(certDir: string): string {
  return readFileSync(join(certDir, 'ca.crt'), 'utf8');
}
