/**
 * Every distinguished-name attribute of every certificate we make has an ASN.1 string type whose
 * alphabet holds its characters (Go's crypto/x509 refuses the whole certificate otherwise), and
 * certificates from older releases that Go cannot parse are replaced (ours) or refused (mounted).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCertsCommand } from '../../src/cli/certs.js';
import { CertificateError, ensureServingCertificates, loadCertificatePair } from '../../src/tls/cert-files.js';
import { directoryString, directoryStringAttributes, directoryStringProblem, goParserProblems, pemBlockToDer } from '../../src/tls/directory-strings.js';
import { generateCa, generateClientCertificate, generateServingBundle, generateServingCertificate } from '../../src/tls/generate.js';
import { checkCaPem } from '../../src/tls/inject-ca.js';
import { mergeCaBundles, splitPemCertificates } from '../../src/tls/pem.js';
import { legacyCa, legacyLeaf } from './legacy-certs.js';

const DAY = 86_400_000;
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bw-dn-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Each attribute, checked by the strict alphabets; returns the attributes for further checks. */
function expectWellTyped(pem: string): ReturnType<typeof directoryStringAttributes> {
  const all = splitPemCertificates(pem).flatMap((block) => directoryStringAttributes(pemBlockToDer(block)));
  expect(all.length).toBeGreaterThan(0);
  for (const attribute of all) expect(directoryStringProblem(attribute), `${attribute.in} ${attribute.oid}`).toBeUndefined();
  return all;
}

describe('directoryString', () => {
  it('is a PrintableString only when every character is in its alphabet', () => {
    expect(directoryString('commonName', 'backend-webhook.ns.svc').valueTagClass).toBe(forge.asn1.Type.PRINTABLESTRING);
    expect(directoryString('commonName', "A-Z a-z 0-9 '()+,-./:=?").valueTagClass).toBe(forge.asn1.Type.PRINTABLESTRING);
    for (const value of ['backend-webhook-ca@1700000000', 'a_b', 'a*b', 'a&b', 'ünïcode', 'x!']) {
      expect(directoryString('commonName', value).valueTagClass, value).toBe(forge.asn1.Type.UTF8);
    }
  });
});

describe('certificates we make', () => {
  it('CA (with its timestamped CN), serving leaf and client leaf: every attribute well-typed', () => {
    const { ca, serving } = generateServingBundle();
    const caAttributes = expectWellTyped(ca.certPem);
    const cn = caAttributes.find((a) => a.in === 'subject' && a.oid === '2.5.4.3')!;
    expect(cn.bytes).toMatch(/^backend-webhook-ca@\d+$/);
    expect(cn.tagName).toBe('UTF8String');
    const leafAttributes = expectWellTyped(serving.certPem);
    // The leaf's issuer is the CA's subject byte for byte, types included.
    expect(leafAttributes.find((a) => a.in === 'issuer')).toMatchObject({ tag: cn.tag, bytes: cn.bytes });
    expect(leafAttributes.find((a) => a.in === 'subject')!.tagName).toBe('PrintableString');
    expectWellTyped(generateClientCertificate(ca, { commonName: 'system:kube-apiserver@cluster' }).certPem);
    expectWellTyped(generateCa({ commonName: 'Ärger & Co' }).certPem);
  });

  it('`certs` output, a renewed leaf and a rotated CA: every attribute well-typed', async () => {
    const out = join(root, 'certs-out');
    expect(await runCertsCommand({ outDir: out, dnsNames: ['hooks.example.com'], ipAddresses: [], serviceName: 'hooks', namespace: 'platform', validityDays: 10, force: false }, { out: () => {}, err: () => {} })).toBe(0);
    for (const file of ['ca.crt', 'ca-bundle.crt', 'tls.crt']) expectWellTyped(readFileSync(join(out, file), 'utf8'));
    // 10-day leaf inside the 30-day renewal window: renewed on the next check.
    const renewed = await ensureServingCertificates({ certDir: out, serviceName: 'hooks', namespace: 'platform' });
    expect(renewed.action).toBe('renewed-leaf');
    expectWellTyped(readFileSync(join(out, 'tls.crt'), 'utf8'));
    // A check two months before the CA's end: the CA rotates, the bundle holds both.
    const rotated = await ensureServingCertificates({ certDir: out, serviceName: 'hooks', namespace: 'platform', now: new Date(renewed.caNotAfter!.getTime() - 50 * DAY) });
    expect(rotated.action).toBe('rotated-ca');
    expect(splitPemCertificates(readFileSync(join(out, 'ca-bundle.crt'), 'utf8'))).toHaveLength(2);
    for (const file of ['ca.crt', 'ca-bundle.crt', 'tls.crt']) expectWellTyped(readFileSync(join(out, file), 'utf8'));
  });
});

describe('certificates Go cannot parse', () => {
  it('are recognised: a PrintableString holding "@"', () => {
    const ca = legacyCa();
    const attribute = directoryStringAttributes(pemBlockToDer(ca.certPem)).find((a) => a.in === 'subject')!;
    expect(attribute.tagName).toBe('PrintableString');
    expect(directoryStringProblem(attribute)).toMatch(/PrintableString holding "backend-webhook-ca@\d+", outside that type's alphabet/);
    expect(goParserProblems(ca.certPem)).toHaveLength(2); // subject and issuer
    expect(goParserProblems(generateCa().certPem)).toEqual([]);
  });

  it('a self-managed directory with such a CA gets a new CA and leaf, and says why', async () => {
    const dir = join(root, 'legacy-self');
    mkdirSync(dir);
    const ca = legacyCa();
    const leaf = legacyLeaf(ca);
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(join(dir, 'ca.key'), ca.keyPem);
    writeFileSync(join(dir, 'ca-bundle.crt'), ca.certPem);
    writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(dir, 'tls.key'), leaf.keyPem);
    const set = await ensureServingCertificates({ certDir: dir });
    expect(set.action).toBe('generated');
    expect(set.reasons.join(' ')).toMatch(/replaced .*ca\.crt: Go's crypto\/x509 .*cannot parse it: issuer attribute 2\.5\.4\.3 is a PrintableString holding "backend-webhook-ca@\d+"/);
    const bundle = readFileSync(join(dir, 'ca-bundle.crt'), 'utf8');
    expect(bundle).not.toContain(ca.certPem.trim().split('\n')[1]);
    for (const file of ['ca.crt', 'ca-bundle.crt', 'tls.crt']) expect(goParserProblems(readFileSync(join(dir, file), 'utf8')), file).toEqual([]);
    const pair = await loadCertificatePair(join(dir, 'tls.crt'), join(dir, 'tls.key'));
    expect(pair.x509.checkIssued(new (await import('node:crypto')).X509Certificate(readFileSync(join(dir, 'ca.crt'))))).toBe(true);
    // Second start: nothing left to replace.
    expect((await ensureServingCertificates({ certDir: dir })).action).toBe('unchanged');
  });

  it('a mounted directory (no ca.key) with such a certificate stops start-up with one line', async () => {
    const dir = join(root, 'legacy-mounted');
    mkdirSync(dir);
    const ca = legacyCa();
    const leaf = legacyLeaf(ca);
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(dir, 'tls.key'), leaf.keyPem);
    const error = await ensureServingCertificates({ certDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CertificateError);
    expect((error as CertificateError).code).toBe('GO_INCOMPATIBLE');
    expect((error as CertificateError).message).toMatch(/tls\.crt: Go's crypto\/x509 \(kube-apiserver, kubectl\) cannot parse it: issuer attribute/);
    expect((error as CertificateError).message).not.toContain('\n');
    // A good leaf with a bad mounted ca.crt is refused too (it is what inject-ca would hand out).
    const good = generateServingBundle();
    writeFileSync(join(dir, 'tls.crt'), good.serving.certPem);
    writeFileSync(join(dir, 'tls.key'), good.serving.keyPem);
    await expect(ensureServingCertificates({ certDir: dir })).rejects.toThrow(/ca\.crt: Go's crypto\/x509/);
  });

  it('a pair loaded from files (--tls-cert-file, hot reload) is refused', async () => {
    const dir = join(root, 'legacy-files');
    mkdirSync(dir);
    const leaf = legacyLeaf(legacyCa());
    writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(dir, 'tls.key'), leaf.keyPem);
    await expect(loadCertificatePair(join(dir, 'tls.crt'), join(dir, 'tls.key'))).rejects.toMatchObject({ code: 'GO_INCOMPATIBLE' });
  });

  it('never stay in a CA bundle, and are never injected', () => {
    const bad = legacyCa();
    const good = generateCa();
    const merged = mergeCaBundles(bad.certPem, good.certPem, new Date());
    expect(merged).toMatchObject({ kept: 0, dropped: 1, added: 1 });
    expect(merged.pem).toBe(splitPemCertificates(good.certPem)[0]);
    expect(() => checkCaPem(bad.certPem + good.certPem, new Date())).toThrow(/cannot parse the CA file/);
    expect(() => checkCaPem(good.certPem, new Date())).not.toThrow();
    expect(goParserProblems(generateServingCertificate(good, { dnsNames: ['x.example.com'] }).certPem)).toEqual([]);
  });
});
