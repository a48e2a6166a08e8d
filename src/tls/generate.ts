/**
 * Self-managed certificates: a CA and the leaves it signs (serving, and client for mutual TLS),
 * built with node-forge. Keys come from node:crypto (native RSA keygen takes milliseconds, forge's
 * pure-JS one about a second); forge assembles and signs the certificates. RSA 2048 because forge
 * cannot sign with EC keys.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { directoryString } from './directory-strings.js';

export const DEFAULT_SERVICE_NAME = 'backend-webhook';
export const DEFAULT_NAMESPACE = 'backend-webhook-system';
export const DEFAULT_CA_VALIDITY_DAYS = 5 * 365;
export const DEFAULT_LEAF_VALIDITY_DAYS = 365;
/** Certificates start this long before "now", so peers with a slow clock accept them at once. */
export const CLOCK_SKEW_MS = 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** A certificate and its private key, both PEM, with the facts callers need without re-parsing. */
export interface CertificateKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Hex, as in the certificate. */
  readonly serialNumber: string;
}

export type CertificateGenerationErrorCode = 'BAD_IP_ADDRESS' | 'BAD_DNS_NAME' | 'NO_NAMES' | 'BAD_VALIDITY' | 'BAD_CA';

export class CertificateGenerationError extends Error {
  constructor(
    readonly code: CertificateGenerationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CertificateGenerationError';
  }
}

export interface ServingNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/** What the API server and local tools dial: loopback plus every in-cluster name of the Service. */
export function defaultServingNames(serviceName = DEFAULT_SERVICE_NAME, namespace = DEFAULT_NAMESPACE): ServingNames {
  return {
    dnsNames: [
      'localhost',
      serviceName,
      `${serviceName}.${namespace}`,
      `${serviceName}.${namespace}.svc`,
      `${serviceName}.${namespace}.svc.cluster.local`,
    ],
    ipAddresses: ['127.0.0.1', '::1'],
  };
}

export interface CaOptions {
  commonName?: string;
  validityDays?: number;
  now?: Date;
}

export function generateCa(options: CaOptions = {}): CertificateKeyPair {
  const now = options.now ?? new Date();
  // The timestamp keeps successive CAs apart by subject, as kube's own self-signed CAs do.
  const commonName = options.commonName ?? `${DEFAULT_SERVICE_NAME}-ca@${Math.floor(now.getTime() / 1000)}`;
  const keys = newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  const subject = [directoryString('commonName', commonName)];
  cert.publicKey = keys.publicKey;
  cert.setSubject(subject);
  cert.setIssuer(subject);
  setValidity(cert, now, options.validityDays ?? DEFAULT_CA_VALIDITY_DAYS);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return toPair(cert, keys.keyPem);
}

export interface ServingCertificateOptions extends Partial<ServingNames> {
  commonName?: string;
  validityDays?: number;
  now?: Date;
}

/** A serving leaf (serverAuth) for the given names, signed by `ca`. Never outlives the CA. */
export function generateServingCertificate(ca: CertificateKeyPair, options: ServingCertificateOptions): CertificateKeyPair {
  const dnsNames = unique(options.dnsNames ?? []);
  const ipAddresses = unique(options.ipAddresses ?? []);
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new CertificateGenerationError('BAD_IP_ADDRESS', `not an IP address: ${JSON.stringify(ip)}`);
  }
  for (const name of dnsNames) {
    if (!isDnsName(name)) throw new CertificateGenerationError('BAD_DNS_NAME', `not a DNS name: ${JSON.stringify(name)}`);
  }
  if (dnsNames.length + ipAddresses.length === 0) throw new CertificateGenerationError('NO_NAMES', 'a serving certificate needs at least one DNS name or IP address');
  const altNames = [...dnsNames.map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, ip }))];
  const commonName = options.commonName ?? dnsNames.find((name) => name.endsWith('.svc')) ?? dnsNames[0] ?? ipAddresses[0]!;
  return signLeaf(ca, commonName, options, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
}

export interface ClientCertificateOptions {
  commonName: string;
  validityDays?: number;
  now?: Date;
}

/** A client leaf (clientAuth), e.g. what the API server presents under mutual TLS. */
export function generateClientCertificate(ca: CertificateKeyPair, options: ClientCertificateOptions): CertificateKeyPair {
  return signLeaf(ca, options.commonName, options, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
}

export interface ServingBundleOptions extends ServingCertificateOptions {
  serviceName?: string;
  namespace?: string;
  caValidityDays?: number;
}

/** A fresh CA and a serving leaf; names default to defaultServingNames(serviceName, namespace). */
export function generateServingBundle(options: ServingBundleOptions = {}): { ca: CertificateKeyPair; serving: CertificateKeyPair } {
  const defaults = defaultServingNames(options.serviceName, options.namespace);
  const ca = generateCa({ validityDays: options.caValidityDays, now: options.now });
  const serving = generateServingCertificate(ca, {
    ...options,
    dnsNames: options.dnsNames ?? defaults.dnsNames,
    ipAddresses: options.ipAddresses ?? defaults.ipAddresses,
  });
  return { ca, serving };
}

function signLeaf(
  ca: CertificateKeyPair,
  commonName: string,
  options: { validityDays?: number; now?: Date },
  extensions: object[],
): CertificateKeyPair {
  let caCert: forge.pki.Certificate;
  let caKey: forge.pki.rsa.PrivateKey;
  try {
    caCert = forge.pki.certificateFromPem(ca.certPem);
    caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  } catch (error) {
    throw new CertificateGenerationError('BAD_CA', `cannot read the CA: ${(error as Error).message}`);
  }
  const now = options.now ?? new Date();
  const keys = newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.setSubject([directoryString('commonName', commonName)]);
  cert.setIssuer(caCert.subject.attributes);
  setValidity(cert, now, options.validityDays ?? DEFAULT_LEAF_VALIDITY_DAYS);
  if (cert.validity.notAfter > caCert.validity.notAfter) cert.validity.notAfter = new Date(caCert.validity.notAfter);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return toPair(cert, keys.keyPem);
}

function newRsaKeyPair(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey), privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey, keyPem: privateKey };
}

function setValidity(cert: forge.pki.Certificate, now: Date, validityDays: number): void {
  if (!Number.isFinite(validityDays) || validityDays <= 0) {
    throw new CertificateGenerationError('BAD_VALIDITY', `validity must be a positive number of days, got ${validityDays}`);
  }
  // Positive 128-bit serial: RFC 5280 wants it unique and at most 20 octets; a clear top bit keeps
  // DER from reading it as negative.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + validityDays * DAY_MS);
}

function toPair(cert: forge.pki.Certificate, keyPem: string): CertificateKeyPair {
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem,
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    serialNumber: cert.serialNumber,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

// RFC 1123 host names, optionally with one leading wildcard label.
const DNS_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

function isDnsName(name: string): boolean {
  return name.length <= 253 && DNS_NAME.test(name) && isIP(name) === 0;
}
