import { X509Certificate, createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateGenerationError,
  defaultServingNames,
  generateCa,
  generateClientCertificate,
  generateServingBundle,
  generateServingCertificate,
  type CertificateKeyPair,
} from '../../src/tls/generate.js';
import { serverTlsOptions } from '../../src/tls/options.js';
import { handshake, listen, pongServer } from './support.js';

const SERVICE_DNS = 'backend-webhook.backend-webhook-system.svc';

let ca: CertificateKeyPair;
let serving: CertificateKeyPair;
let otherCa: CertificateKeyPair;
let caX509: X509Certificate;
let leafX509: X509Certificate;

beforeAll(() => {
  ({ ca, serving } = generateServingBundle());
  otherCa = generateCa();
  caX509 = new X509Certificate(ca.certPem);
  leafX509 = new X509Certificate(serving.certPem);
});

function extension(pem: string, name: string): Record<string, unknown> | undefined {
  return forge.pki.certificateFromPem(pem).getExtension(name) as Record<string, unknown> | undefined;
}

describe('generated certificates', () => {
  it('chain: the leaf is signed by the CA and not by another CA', () => {
    expect(leafX509.verify(caX509.publicKey)).toBe(true);
    expect(leafX509.checkIssued(caX509)).toBe(true);
    expect(leafX509.verify(new X509Certificate(otherCa.certPem).publicKey)).toBe(false);
    expect(caX509.verify(caX509.publicKey)).toBe(true);
  });

  it('CA extensions: CA, may sign certificates', () => {
    expect(caX509.ca).toBe(true);
    expect(extension(ca.certPem, 'basicConstraints')).toMatchObject({ cA: true, critical: true });
    expect(extension(ca.certPem, 'keyUsage')).toMatchObject({ keyCertSign: true, critical: true });
    expect(extension(ca.certPem, 'subjectKeyIdentifier')).toBeDefined();
  });

  it('serving leaf extensions: not a CA, serverAuth, key usages, key identifiers', () => {
    expect(leafX509.ca).toBe(false);
    expect(extension(serving.certPem, 'basicConstraints')).toMatchObject({ cA: false });
    expect(extension(serving.certPem, 'keyUsage')).toMatchObject({ digitalSignature: true, keyEncipherment: true, keyCertSign: false });
    expect(leafX509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const authorityKeyId = forge.pki.certificateFromPem(serving.certPem).getExtension('authorityKeyIdentifier') as { value: string } | undefined;
    const caKeyId = forge.pki.certificateFromPem(ca.certPem).generateSubjectKeyIdentifier().getBytes();
    // DER: SEQUENCE { [0] keyIdentifier } around the CA's 20-byte subject key id.
    expect(authorityKeyId?.value).toBe(`\x30\x16\x80\x14${caKeyId}`);
  });

  it('SANs: every default name and loopback address, and nothing else', () => {
    const names = defaultServingNames();
    expect(names.dnsNames).toEqual([
      'localhost',
      'backend-webhook',
      'backend-webhook.backend-webhook-system',
      SERVICE_DNS,
      `${SERVICE_DNS}.cluster.local`,
    ]);
    for (const name of names.dnsNames) expect(leafX509.checkHost(name)).toBe(name);
    expect(leafX509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leafX509.checkIP('::1')).toBe('::1');
    expect(leafX509.checkHost('backend-webhook.other-namespace.svc')).toBeUndefined();
    expect(leafX509.checkIP('10.0.0.1')).toBeUndefined();
  });

  it('custom service names and extra addresses', () => {
    const leaf = new X509Certificate(
      generateServingCertificate(ca, { dnsNames: ['hooks.example.com', ...defaultServingNames('svc', 'ns').dnsNames], ipAddresses: ['10.1.2.3', 'fd00::7'] }).certPem,
    );
    expect(leaf.checkHost('svc.ns.svc')).toBe('svc.ns.svc');
    expect(leaf.checkHost('hooks.example.com')).toBe('hooks.example.com');
    expect(leaf.checkIP('fd00::7')).toBe('fd00::7');
    expect(leaf.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(leaf.subject).toBe('CN=svc.ns.svc');
  });

  it('the key matches its certificate, and only its own', () => {
    expect(leafX509.checkPrivateKey(createPrivateKey(serving.keyPem))).toBe(true);
    expect(caX509.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(leafX509.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(false);
  });

  it('notBefore is one hour in the past; validity as asked; a leaf never outlives its CA', () => {
    const now = new Date('2030-01-01T12:00:00Z');
    const shortCa = generateCa({ now, validityDays: 10 });
    const leaf = generateServingCertificate(shortCa, { dnsNames: ['a.example'], validityDays: 365, now });
    expect(shortCa.notBefore.toISOString()).toBe('2030-01-01T11:00:00.000Z');
    expect(shortCa.notAfter.toISOString()).toBe('2030-01-11T12:00:00.000Z');
    expect(new Date(new X509Certificate(leaf.certPem).validFrom).toISOString()).toBe('2030-01-01T11:00:00.000Z');
    expect(leaf.notAfter.getTime()).toBe(shortCa.notAfter.getTime());
    const defaults = generateCa({ now });
    expect(defaults.notAfter.getTime() - now.getTime()).toBe(5 * 365 * 86_400_000);
    expect(serving.notAfter.getTime() - serving.notBefore.getTime()).toBe(365 * 86_400_000 + 3_600_000);
  });

  it('serial numbers are positive and distinct', () => {
    expect(ca.serialNumber).not.toBe(serving.serialNumber);
    expect(Number.parseInt(serving.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
  });

  it('refuses bad names with typed errors', () => {
    const attempt = (options: Parameters<typeof generateServingCertificate>[1]) => {
      try {
        generateServingCertificate(ca, options);
        return undefined;
      } catch (error) {
        return error instanceof CertificateGenerationError ? error.code : 'untyped';
      }
    };
    expect(attempt({ ipAddresses: ['300.1.1.1'] })).toBe('BAD_IP_ADDRESS');
    expect(attempt({ dnsNames: ['bad name'] })).toBe('BAD_DNS_NAME');
    expect(attempt({ dnsNames: ['10.0.0.1'] })).toBe('BAD_DNS_NAME');
    expect(attempt({})).toBe('NO_NAMES');
    expect(attempt({ dnsNames: ['ok.example'], validityDays: 0 })).toBe('BAD_VALIDITY');
  });
});

describe('TLS with the generated certificates', () => {
  let port: number;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ port, close } = await listen(pongServer(serverTlsOptions({ cert: serving.certPem, key: serving.keyPem }))));
  });
  afterAll(() => close());

  it('a client that trusts only the CA accepts the server under its Service name and loopback IP', async () => {
    const byName = await handshake(port, { ca: ca.certPem, servername: SERVICE_DNS });
    expect(byName).toMatchObject({ ok: true, authorized: true });
    // No servername: Node checks the IP SAN against the host it dialled (127.0.0.1).
    expect(await handshake(port, { ca: ca.certPem })).toMatchObject({ ok: true, authorized: true });
  });

  it('a client that trusts another CA refuses the server', async () => {
    const result = await handshake(port, { ca: otherCa.certPem, servername: SERVICE_DNS });
    expect(result).toMatchObject({ ok: false });
    expect(result.ok === false && result.error).toMatch(/unable to verify|self.signed|local issuer/i);
  });

  it('a name outside the SANs is refused', async () => {
    const result = await handshake(port, { ca: ca.certPem, servername: 'backend-webhook.elsewhere.svc' });
    expect(result.ok === false && result.error).toMatch(/Hostname\/IP does not match/);
  });
});

describe('minimum TLS version', () => {
  // SECLEVEL=0 on both ends so that only the protocol version can refuse TLS 1.1 (OpenSSL 3 would
  // otherwise refuse it for its signature algorithms, and the test would prove nothing).
  const legacyClient = { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } as const;
  const servers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of servers) await close();
  });

  it('a TLS 1.1 client is refused; TLS 1.2 is accepted', async () => {
    const started = await listen(pongServer({ ...serverTlsOptions({ cert: serving.certPem, key: serving.keyPem }), ciphers: 'DEFAULT:@SECLEVEL=0' }));
    servers.push(started.close);
    const legacy = await handshake(started.port, { ca: ca.certPem, servername: 'localhost', ...legacyClient });
    expect(legacy.ok === false && legacy.error).toMatch(/protocol version/);
    const modern = await handshake(started.port, { ca: ca.certPem, servername: 'localhost', maxVersion: 'TLSv1.2' });
    expect(modern).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
  });

  it('control: the same TLS 1.1 client connects to a server that allows TLS 1.0', async () => {
    const started = await listen(
      pongServer({ ...serverTlsOptions({ cert: serving.certPem, key: serving.keyPem }), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }),
    );
    servers.push(started.close);
    expect(await handshake(started.port, { ca: ca.certPem, servername: 'localhost', ...legacyClient })).toMatchObject({ ok: true, protocol: 'TLSv1.1' });
  });
});

describe('client certificates (mutual TLS)', () => {
  let port: number;
  let close: () => Promise<void>;
  let clientCa: CertificateKeyPair;
  let client: CertificateKeyPair;
  let strangerClient: CertificateKeyPair;
  let servingAsClient: CertificateKeyPair;

  beforeAll(async () => {
    clientCa = generateCa({ commonName: 'apiserver-client-ca' });
    client = generateClientCertificate(clientCa, { commonName: 'kube-apiserver' });
    strangerClient = generateClientCertificate(otherCa, { commonName: 'kube-apiserver' });
    servingAsClient = generateServingCertificate(clientCa, { dnsNames: ['not-a-client.example'] });
    ({ port, close } = await listen(pongServer(serverTlsOptions({ cert: serving.certPem, key: serving.keyPem, clientCa: clientCa.certPem }))));
  });
  afterAll(() => close());

  it('the client leaf is a clientAuth certificate', () => {
    const x509 = new X509Certificate(client.certPem);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(x509.verify(new X509Certificate(clientCa.certPem).publicKey)).toBe(true);
  });

  it('serverTlsOptions asks for and enforces client certificates only when a client CA is given', () => {
    expect(serverTlsOptions({ cert: 'c', key: 'k' })).toEqual({ cert: 'c', key: 'k', minVersion: 'TLSv1.2' });
    expect(serverTlsOptions({ cert: 'c', key: 'k', clientCa: 'x' })).toEqual({ cert: 'c', key: 'k', minVersion: 'TLSv1.2', ca: 'x', requestCert: true, rejectUnauthorized: true });
  });

  it('a caller with a valid client certificate gets through', async () => {
    expect(await handshake(port, { ca: ca.certPem, servername: 'localhost', cert: client.certPem, key: client.keyPem })).toMatchObject({ ok: true, authorized: true });
  });

  it.each([
    ['no client certificate', () => ({})],
    ['a client certificate from another CA', () => ({ cert: strangerClient.certPem, key: strangerClient.keyPem })],
    ['a certificate without clientAuth', () => ({ cert: servingAsClient.certPem, key: servingAsClient.keyPem })],
  ])('a caller with %s is refused at the TLS layer', async (_label, extra) => {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      const result = await handshake(port, { ca: ca.certPem, servername: 'localhost', maxVersion, ...extra() });
      expect(result.ok, maxVersion).toBe(false);
    }
  });
});
