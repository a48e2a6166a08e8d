/** PEM bundles: split, parse, and keep what is still valid. Shared by the files and by CA injection. */
import { X509Certificate } from 'node:crypto';
import { goParserProblems } from './directory-strings.js';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM text, normalised to end with a newline. Other blocks are ignored. */
export function splitPemCertificates(pem: string): string[] {
  return [...pem.matchAll(CERTIFICATE_BLOCK)].map((match) => `${match[0]}\n`);
}

export interface ParsedCertificate {
  readonly pem: string;
  readonly x509: X509Certificate;
  readonly notAfter: Date;
}

/** Parses each block; blocks that are not certificates are returned apart, not thrown. */
export function parsePemCertificates(pem: string): { certificates: ParsedCertificate[]; unreadable: number } {
  const certificates: ParsedCertificate[] = [];
  let unreadable = 0;
  for (const block of splitPemCertificates(pem)) {
    try {
      const x509 = new X509Certificate(block);
      certificates.push({ pem: block, x509, notAfter: new Date(x509.validTo) });
    } catch {
      unreadable += 1;
    }
  }
  return { certificates, unreadable };
}

/**
 * The CA bundle to trust from now on: `existing` certificates that have not expired, then `added`
 * ones, each certificate once (by SHA-256 fingerprint). Keeping unexpired old CAs means a CA
 * rotation never leaves replicas serving a leaf the callers no longer trust.
 */
export function mergeCaBundles(existing: string, added: string, now: Date): { pem: string; kept: number; dropped: number; added: number } {
  const seen = new Set<string>();
  const out: string[] = [];
  const old = parsePemCertificates(existing);
  let kept = 0;
  let dropped = old.unreadable;
  for (const cert of old.certificates) {
    // A certificate Go cannot parse makes the API server refuse the whole caBundle: never keep one.
    if (cert.notAfter.getTime() <= now.getTime() || seen.has(cert.x509.fingerprint256) || goParserProblems(cert.pem).length > 0) {
      dropped += 1;
      continue;
    }
    seen.add(cert.x509.fingerprint256);
    out.push(cert.pem);
    kept += 1;
  }
  let addedCount = 0;
  for (const cert of parsePemCertificates(added).certificates) {
    if (seen.has(cert.x509.fingerprint256)) continue;
    seen.add(cert.x509.fingerprint256);
    out.push(cert.pem);
    addedCount += 1;
  }
  return { pem: out.join(''), kept, dropped, added: addedCount };
}

/** Why Go's crypto/x509 would refuse the certificates of a PEM text, each prefixed with its position. */
export function goParserProblemsOfPem(pem: string): string[] {
  const blocks = splitPemCertificates(pem);
  return blocks.flatMap((block, index) => goParserProblems(block).map((problem) => (blocks.length > 1 ? `certificate ${index + 1}: ${problem}` : problem)));
}
