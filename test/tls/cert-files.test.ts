import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateError, ensureServingCertificates, loadCertificatePair, type ServingCertificateSet } from '../../src/tls/cert-files.js';
import { generateCa, generateServingBundle, generateServingCertificate, type CertificateKeyPair } from '../../src/tls/generate.js';
import { splitPemCertificates } from '../../src/tls/pem.js';

const DAY = 86_400_000;
const T0 = new Date('2031-03-01T00:00:00Z');

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bw-cert-files-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const read = (file: string): string => readFileSync(file, 'utf8');
const x509 = (file: string): X509Certificate => new X509Certificate(read(file));
const fingerprints = (file: string): string[] => splitPemCertificates(read(file)).map((pem) => new X509Certificate(pem).fingerprint256);

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof CertificateError ? error.code : `untyped: ${(error as Error).message}`;
  }
}

describe('ensureServingCertificates', () => {
  let dir: string;
  let first: ServingCertificateSet;

  beforeAll(async () => {
    dir = join(root, 'nested', 'certs');
    first = await ensureServingCertificates({ certDir: dir, serviceName: 'hooks', namespace: 'platform', extraDnsNames: ['hooks.example.com'], extraIps: ['10.9.8.7'], now: T0, caValidityDays: 90, leafValidityDays: 40 });
  });

  it('generates CA, bundle and serving pair in a new directory, keys private', () => {
    expect(first.action).toBe('generated');
    for (const file of [first.caFile, first.caKeyFile, first.caBundleFile, first.certFile, first.keyFile]) expect(existsSync(file)).toBe(true);
    expect(statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(first.caKeyFile).mode & 0o777).toBe(0o600);
    expect(read(first.caBundleFile)).toBe(read(first.caFile));
    const leaf = x509(first.certFile);
    expect(leaf.verify(x509(first.caFile).publicKey)).toBe(true);
    for (const name of ['localhost', 'hooks', 'hooks.platform', 'hooks.platform.svc', 'hooks.platform.svc.cluster.local', 'hooks.example.com']) {
      expect(leaf.checkHost(name)).toBe(name);
    }
    expect(leaf.checkIP('10.9.8.7')).toBe('10.9.8.7');
    expect(first.certNotAfter.toISOString()).toBe(new Date(T0.getTime() + 40 * DAY).toISOString());
    expect(first.caNotAfter?.toISOString()).toBe(new Date(T0.getTime() + 90 * DAY).toISOString());
  });

  it('leaves a good set alone', async () => {
    const before = read(first.certFile);
    const again = await ensureServingCertificates({ certDir: dir, serviceName: 'hooks', namespace: 'platform', extraDnsNames: ['hooks.example.com'], extraIps: ['10.9.8.7'], now: new Date(T0.getTime() + DAY) });
    expect(again.action).toBe('unchanged');
    expect(read(first.certFile)).toBe(before);
  });

  it('renews the leaf with the same CA once it expires within renewBefore', async () => {
    const caBefore = read(first.caFile);
    const leafBefore = x509(first.certFile);
    const outsideWindow = await ensureServingCertificates({ certDir: dir, serviceName: 'hooks', namespace: 'platform', extraDnsNames: ['hooks.example.com'], extraIps: ['10.9.8.7'], now: new Date(T0.getTime() + 9 * DAY), renewBefore: 30 * DAY });
    expect(outsideWindow.action).toBe('unchanged');
    const now = new Date(T0.getTime() + 11 * DAY); // leaf expires in 29 days
    const renewed = await ensureServingCertificates({ certDir: dir, serviceName: 'hooks', namespace: 'platform', extraDnsNames: ['hooks.example.com'], extraIps: ['10.9.8.7'], now, renewBefore: 30 * DAY, leafValidityDays: 40 });
    expect(renewed.action).toBe('renewed-leaf');
    expect(renewed.reasons.join()).toMatch(/serving certificate expires/);
    expect(read(first.caFile)).toBe(caBefore);
    const leaf = x509(first.certFile);
    expect(leaf.serialNumber).not.toBe(leafBefore.serialNumber);
    expect(leaf.verify(x509(first.caFile).publicKey)).toBe(true);
    expect(new Date(leaf.validTo).getTime()).toBe(now.getTime() + 40 * DAY);
    await expect(loadCertificatePair(first.certFile, first.keyFile)).resolves.toMatchObject({ fingerprint: leaf.fingerprint256 });
  });

  it('rotates a CA near expiry, keeping the old CA in the bundle until it expires; a leaf that is due moves to the new CA at once', async () => {
    const oldCa = x509(first.caFile);
    const now = new Date(T0.getTime() + 61 * DAY); // CA expires in 29 days
    const rotated = await ensureServingCertificates({ certDir: dir, serviceName: 'hooks', namespace: 'platform', extraDnsNames: ['hooks.example.com'], extraIps: ['10.9.8.7'], now, renewBefore: 30 * DAY });
    expect(rotated.action).toBe('rotated-ca');
    const newCa = x509(first.caFile);
    expect(newCa.fingerprint256).not.toBe(oldCa.fingerprint256);
    expect(x509(first.certFile).verify(newCa.publicKey)).toBe(true);
    expect(fingerprints(first.caBundleFile)).toEqual([oldCa.fingerprint256, newCa.fingerprint256]);

    // Once the old CA has expired, the bundle sheds it.
    const later = await ensureServingCertificates({ certDir: dir, serviceName: 'hooks', namespace: 'platform', extraDnsNames: ['hooks.example.com'], extraIps: ['10.9.8.7'], now: new Date(oldCa.validTo), renewBefore: 30 * DAY });
    expect(later.action).toBe('unchanged');
    expect(fingerprints(first.caBundleFile)).toEqual([newCa.fingerprint256]);
  });

  it('reissues the leaf when the names it must cover change', async () => {
    const set = await ensureServingCertificates({ certDir: dir, serviceName: 'renamed', namespace: 'platform', now: new Date(T0.getTime() + 62 * DAY) });
    expect(set.action).toBe('renewed-leaf');
    expect(set.reasons.join()).toMatch(/does not cover renamed/);
    expect(x509(first.certFile).checkHost('renamed.platform.svc')).toBe('renamed.platform.svc');
  });

  it('reissues a leaf that the current CA did not sign', async () => {
    const other = generateServingBundle({ now: new Date(T0.getTime() + 62 * DAY) });
    writeFileSync(first.certFile, other.serving.certPem);
    writeFileSync(first.keyFile, other.serving.keyPem);
    const set = await ensureServingCertificates({ certDir: dir, serviceName: 'renamed', namespace: 'platform', now: new Date(T0.getTime() + 62 * DAY) });
    expect(set.action).toBe('renewed-leaf');
    expect(set.reasons.join()).toMatch(/not signed by a CA in the bundle/);
    expect(x509(first.certFile).verify(x509(first.caFile).publicKey)).toBe(true);
  });

  it('leaves a serving pair without a CA key alone (a mounted cert-manager Secret)', async () => {
    const external = join(root, 'external');
    mkdirSync(external);
    const { ca, serving } = generateServingBundle();
    writeFileSync(join(external, 'ca.crt'), ca.certPem);
    writeFileSync(join(external, 'tls.crt'), serving.certPem);
    writeFileSync(join(external, 'tls.key'), serving.keyPem);
    const set = await ensureServingCertificates({ certDir: external, now: new Date(serving.notAfter.getTime() - DAY) });
    expect(set.action).toBe('external');
    expect(read(join(external, 'tls.crt'))).toBe(serving.certPem);
    expect(existsSync(join(external, 'ca.key'))).toBe(false);
  });

  it('refuses a CA whose key does not match rather than replacing it', async () => {
    const broken = join(root, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'ca.crt'), generateCa().certPem);
    writeFileSync(join(broken, 'ca.key'), generateCa().keyPem);
    expect(await errorCode(ensureServingCertificates({ certDir: broken }))).toBe('KEY_MISMATCH');
  });
});

describe('staged CA rotation', () => {
  it('adds the new CA to the bundle first and moves the leaf to it only when the leaf is due', async () => {
    const certDir = join(root, 'staged');
    const at = (days: number) =>
      ensureServingCertificates({ certDir, now: new Date(T0.getTime() + days * DAY), caValidityDays: 100, leafValidityDays: 40, renewBefore: 10 * DAY, caRenewBefore: 30 * DAY });
    expect((await at(0)).action).toBe('generated');
    const oldCa = x509(join(certDir, 'ca.crt'));
    expect((await at(31)).action).toBe('renewed-leaf');
    expect((await at(62)).action).toBe('renewed-leaf'); // capped at the CA's expiry, day 100
    const leafBeforeRotation = read(join(certDir, 'tls.crt'));

    const rotation = await at(70); // CA has 30 days left, the leaf too: more than renewBefore
    expect(rotation.action).toBe('rotated-ca');
    const newCa = x509(join(certDir, 'ca.crt'));
    expect(newCa.fingerprint256).not.toBe(oldCa.fingerprint256);
    expect(fingerprints(join(certDir, 'ca-bundle.crt'))).toEqual([oldCa.fingerprint256, newCa.fingerprint256]);
    expect(read(join(certDir, 'tls.crt'))).toBe(leafBeforeRotation); // still served, still trusted via the bundle
    expect((await at(80)).action).toBe('unchanged');

    const moved = await at(91);
    expect(moved.action).toBe('renewed-leaf');
    expect(x509(join(certDir, 'tls.crt')).verify(newCa.publicKey)).toBe(true);
    expect(fingerprints(join(certDir, 'ca-bundle.crt'))).toEqual([oldCa.fingerprint256, newCa.fingerprint256]);

    expect((await at(100)).action).toBe('unchanged');
    expect(fingerprints(join(certDir, 'ca-bundle.crt'))).toEqual([newCa.fingerprint256]);
  });
});

describe('loadCertificatePair', () => {
  let ca: CertificateKeyPair;
  let serving: CertificateKeyPair;
  let dir: string;

  beforeAll(() => {
    ({ ca, serving } = generateServingBundle());
    dir = mkdtempSync(join(root, 'pair-'));
    writeFileSync(join(dir, 'tls.crt'), serving.certPem + ca.certPem); // leaf + chain
    writeFileSync(join(dir, 'tls.key'), serving.keyPem);
    writeFileSync(join(dir, 'ca.key'), ca.keyPem);
    writeFileSync(join(dir, 'garbage'), 'not pem');
  });

  it('loads a matching pair (leaf first, chain allowed)', async () => {
    const pair = await loadCertificatePair(join(dir, 'tls.crt'), join(dir, 'tls.key'));
    expect(pair.fingerprint).toBe(new X509Certificate(serving.certPem).fingerprint256);
    expect(pair.notAfter.getTime()).toBe(Math.floor(serving.notAfter.getTime() / 1000) * 1000);
    expect(pair.cert).toBe(serving.certPem + ca.certPem);
  });

  it('names each problem with a code', async () => {
    expect(await errorCode(loadCertificatePair(join(dir, 'tls.crt'), join(dir, 'ca.key')))).toBe('KEY_MISMATCH');
    expect(await errorCode(loadCertificatePair(join(dir, 'missing.crt'), join(dir, 'tls.key')))).toBe('MISSING_FILE');
    expect(await errorCode(loadCertificatePair(join(dir, 'garbage'), join(dir, 'tls.key')))).toBe('BAD_CERTIFICATE');
    expect(await errorCode(loadCertificatePair(join(dir, 'tls.crt'), join(dir, 'garbage')))).toBe('BAD_KEY');
  });

  it('a serving leaf for another CA is still a matching pair (trust is the client\'s business)', async () => {
    const other = generateServingCertificate(generateCa(), { dnsNames: ['x.example'] });
    writeFileSync(join(dir, 'other.crt'), other.certPem);
    writeFileSync(join(dir, 'other.key'), other.keyPem);
    await expect(loadCertificatePair(join(dir, 'other.crt'), join(dir, 'other.key'))).resolves.toBeDefined();
  });
});
