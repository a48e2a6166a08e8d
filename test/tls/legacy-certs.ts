/**
 * Certificates as releases before the fix made them: forge's default PrintableString for every DN
 * attribute, so `backend-webhook-ca@<timestamp>` holds an '@' outside that type's alphabet. Go's
 * crypto/x509 refuses them; OpenSSL and Node do not. Built here, by hand, on purpose.
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateKeyPair } from '../../src/tls/generate.js';

function keys(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey), privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey, keyPem: privateKey };
}

function finish(cert: forge.pki.Certificate, signer: forge.pki.rsa.PrivateKey, keyPem: string): CertificateKeyPair {
  cert.sign(signer, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem, notBefore: cert.validity.notBefore, notAfter: cert.validity.notAfter, serialNumber: cert.serialNumber };
}

function base(publicKey: forge.pki.PublicKey, serial: string): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 90 * 86_400_000);
  return cert;
}

/** A CA whose CN is a PrintableString holding '@' (no valueTagClass: forge's default). */
export function legacyCa(): CertificateKeyPair {
  const k = keys();
  const cert = base(k.publicKey, '01');
  const subject = [{ name: 'commonName', value: `backend-webhook-ca@${Math.floor(Date.now() / 1000)}` }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return finish(cert, k.privateKey, k.keyPem);
}

/** A serving leaf for localhost/127.0.0.1 signed by `ca`, its issuer copied (so also PrintableString). */
export function legacyLeaf(ca: CertificateKeyPair): CertificateKeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  const k = keys();
  const cert = base(k.publicKey, '02');
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  return finish(cert, caKey, k.keyPem);
}
