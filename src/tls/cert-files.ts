/**
 * Certificates on disk: the self-managed set in a directory (generate when missing, renew the leaf
 * or rotate the CA before expiry), and loading a cert/key pair with the key checked against it.
 * Every file is replaced by an atomic rename, so a watcher never reads half a file.
 */
import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  DEFAULT_NAMESPACE,
  DEFAULT_SERVICE_NAME,
  defaultServingNames,
  generateCa,
  generateServingCertificate,
  type CertificateKeyPair,
} from './generate.js';
import { goParserProblemsOfPem, mergeCaBundles, parsePemCertificates, splitPemCertificates } from './pem.js';

export const CERT_FILE_NAMES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  /** Current CA plus older CAs that have not expired: what callers should trust. */
  caBundle: 'ca-bundle.crt',
  cert: 'tls.crt',
  key: 'tls.key',
} as const;

export const DEFAULT_RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

export type CertificateErrorCode = 'MISSING_FILE' | 'UNREADABLE_FILE' | 'BAD_CERTIFICATE' | 'BAD_KEY' | 'KEY_MISMATCH' | 'GO_INCOMPATIBLE';

export class CertificateError extends Error {
  constructor(
    readonly code: CertificateErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'CertificateError';
  }
}

/** A certificate (possibly followed by its chain) and the private key that matches it. */
export interface CertificatePair {
  /** PEM as read: leaf first, then any intermediates. */
  readonly cert: string;
  readonly key: string;
  readonly x509: X509Certificate;
  readonly notAfter: Date;
  /** SHA-256 fingerprint of the leaf, e.g. "AB:CD:...". */
  readonly fingerprint: string;
}

/** Reads a PEM pair and proves the key belongs to the (first) certificate. */
export async function loadCertificatePair(certFile: string, keyFile: string): Promise<CertificatePair> {
  const [cert, key] = await Promise.all([readText(certFile), readText(keyFile)]);
  return parseCertificatePair(cert, key, { certFile, keyFile });
}

/**
 * Reads a pair and proves the key belongs to the (first) certificate. Unless `goCheck` is false,
 * also refuses a chain that Go's crypto/x509 cannot parse: every API server would fail to call us.
 */
export function parseCertificatePair(cert: string, key: string, files: { certFile?: string; keyFile?: string; goCheck?: boolean } = {}): CertificatePair {
  const leafPem = splitPemCertificates(cert)[0];
  if (leafPem === undefined) throw new CertificateError('BAD_CERTIFICATE', `no PEM certificate in ${files.certFile ?? 'certificate'}`, files.certFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(leafPem);
  } catch (error) {
    throw new CertificateError('BAD_CERTIFICATE', `unreadable certificate in ${files.certFile ?? 'certificate'}: ${(error as Error).message}`, files.certFile);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new CertificateError('BAD_KEY', `unreadable private key in ${files.keyFile ?? 'key'}: ${(error as Error).message}`, files.keyFile);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new CertificateError(
      'KEY_MISMATCH',
      `the private key in ${files.keyFile ?? 'key'} does not belong to the certificate in ${files.certFile ?? 'certificate'}`,
      files.keyFile,
    );
  }
  if (files.goCheck !== false) refuseGoIncompatible(cert, files.certFile ?? 'certificate');
  return { cert, key, x509, notAfter: new Date(x509.validTo), fingerprint: x509.fingerprint256 };
}

function refuseGoIncompatible(pem: string, file: string): void {
  const problems = goParserProblemsOfPem(pem);
  if (problems.length > 0) {
    throw new CertificateError('GO_INCOMPATIBLE', `${file}: Go's crypto/x509 (kube-apiserver, kubectl) cannot parse it: ${problems[0]}`, file);
  }
}

export interface EnsureServingCertificatesOptions {
  certDir: string;
  serviceName?: string;
  namespace?: string;
  extraDnsNames?: string[];
  extraIps?: string[];
  /** Renew the serving certificate once it expires within this many milliseconds (default 30 days). */
  renewBefore?: number;
  /**
   * Rotate the CA once it expires within this many milliseconds (default 2 x renewBefore), so the
   * new CA is in the bundle well before a leaf from it is served. Keep it below the CA's lifetime.
   */
  caRenewBefore?: number;
  now?: Date;
  caValidityDays?: number;
  leafValidityDays?: number;
}

/**
 * unchanged: all good; generated: new CA + leaf; renewed-leaf: new leaf, same CA; rotated-ca: new
 * CA, old CA kept in the bundle (the leaf too is replaced only if it was due); external: a serving pair without a CA key (e.g. a mounted
 * cert-manager Secret), left alone for its owner to renew.
 */
export type CertificateAction = 'unchanged' | 'generated' | 'renewed-leaf' | 'rotated-ca' | 'external';

export interface ServingCertificateSet {
  certDir: string;
  caFile: string;
  caKeyFile: string;
  caBundleFile: string;
  certFile: string;
  keyFile: string;
  /** undefined only for `external` sets without a readable ca.crt. */
  caNotAfter: Date | undefined;
  certNotAfter: Date;
  action: CertificateAction;
  /** Why something was (re)issued, for the log. */
  reasons: string[];
}

export function certificatePaths(certDir: string): { caFile: string; caKeyFile: string; caBundleFile: string; certFile: string; keyFile: string } {
  return {
    caFile: join(certDir, CERT_FILE_NAMES.caCert),
    caKeyFile: join(certDir, CERT_FILE_NAMES.caKey),
    caBundleFile: join(certDir, CERT_FILE_NAMES.caBundle),
    certFile: join(certDir, CERT_FILE_NAMES.cert),
    keyFile: join(certDir, CERT_FILE_NAMES.key),
  };
}

/**
 * Makes the self-managed set in `certDir` good for at least `renewBefore`: generates what is
 * missing, renews a leaf that expires soon (or that callers would not trust, or that misses a
 * name), and rotates the CA in stages. A CA within `caRenewBefore` of expiry is replaced first,
 * with the old one kept in ca-bundle.crt until it expires, while the current leaf keeps serving;
 * the leaf moves to the new CA only when it is itself due. That leaves time (up to renewBefore)
 * for the bundle to reach every caller's caBundle before any caller meets the new chain.
 */
export async function ensureServingCertificates(options: EnsureServingCertificatesOptions): Promise<ServingCertificateSet> {
  const now = options.now ?? new Date();
  const renewBefore = options.renewBefore ?? DEFAULT_RENEW_BEFORE_MS;
  const caRenewBefore = options.caRenewBefore ?? 2 * renewBefore;
  const paths = { certDir: options.certDir, ...certificatePaths(options.certDir) };
  const defaults = defaultServingNames(options.serviceName ?? DEFAULT_SERVICE_NAME, options.namespace ?? DEFAULT_NAMESPACE);
  const names = {
    dnsNames: [...new Set([...defaults.dnsNames, ...(options.extraDnsNames ?? [])])],
    ipAddresses: [...new Set([...defaults.ipAddresses, ...(options.extraIps ?? [])])],
  };
  const remaining = (notAfter: Date): number => notAfter.getTime() - now.getTime();
  const issueLeaf = (ca: CertificateKeyPair): CertificateKeyPair =>
    generateServingCertificate(ca, { ...names, validityDays: options.leafValidityDays, now });

  await makeDirectory(options.certDir);
  let existingCa = await readOptionalPair(paths.caFile, paths.caKeyFile, { goCheck: false });
  if (existingCa === undefined && (await readOptionalText(paths.caKeyFile)) === undefined) {
    // Not ours to replace: a mounted Secret that Go cannot parse stops start-up (in the pair read).
    const external = await readOptionalPair(paths.certFile, paths.keyFile);
    if (external !== undefined) {
      const caText = await readOptionalText(paths.caFile);
      if (caText !== undefined) refuseGoIncompatible(caText, paths.caFile);
      const caNotAfter = caText === undefined ? undefined : parsePemCertificates(caText).certificates[0]?.notAfter;
      return { ...paths, caNotAfter, certNotAfter: external.notAfter, action: 'external', reasons: [] };
    }
  }
  const initialReasons: string[] = [];
  if (existingCa !== undefined) {
    // Ours, made by an older release (a PrintableString with '@' in the CN): no Go client could
    // ever trust it, so there is nothing to keep or overlap with. Start afresh.
    const goProblems = goParserProblemsOfPem(existingCa.cert);
    if (goProblems.length > 0) {
      initialReasons.push(`replaced ${paths.caFile}: Go's crypto/x509 (kube-apiserver, kubectl) cannot parse it: ${goProblems[0]}`);
      existingCa = undefined;
    }
  }
  if (existingCa === undefined) {
    const ca = generateCa({ validityDays: options.caValidityDays, now });
    const leaf = issueLeaf(ca);
    await writeCertificateSet(options.certDir, { ca, serving: leaf, caBundlePem: ca.certPem });
    const reasons = initialReasons.length > 0 ? initialReasons : ['no CA in the directory'];
    return { ...paths, caNotAfter: ca.notAfter, certNotAfter: leaf.notAfter, action: 'generated', reasons };
  }

  const bundleText = await readOptionalText(paths.caBundleFile);
  let ca = toKeyPair(existingCa);
  let bundle = mergeCaBundles(bundleText ?? '', existingCa.cert, now).pem;
  let action: CertificateAction = 'unchanged';
  const reasons: string[] = [];
  if (remaining(existingCa.notAfter) <= caRenewBefore) {
    reasons.push(`CA expires ${existingCa.notAfter.toISOString()}`);
    ca = generateCa({ validityDays: options.caValidityDays, now });
    bundle = mergeCaBundles(bundle, ca.certPem, now).pem;
    await writeAtomically(paths.caKeyFile, ca.keyPem, 0o600);
    await writeAtomically(paths.caFile, ca.certPem, 0o644);
    action = 'rotated-ca';
  }
  if (bundle !== bundleText) await writeAtomically(paths.caBundleFile, bundle, 0o644);

  const leafProblems = await checkLeaf(paths, names, bundle, (notAfter) => remaining(notAfter) <= renewBefore);
  if ('problems' in leafProblems) {
    const renewed = issueLeaf(ca);
    await writeLeaf(paths, renewed);
    return {
      ...paths,
      caNotAfter: ca.notAfter,
      certNotAfter: renewed.notAfter,
      action: action === 'rotated-ca' ? 'rotated-ca' : 'renewed-leaf',
      reasons: [...reasons, ...leafProblems.problems],
    };
  }
  return { ...paths, caNotAfter: ca.notAfter, certNotAfter: leafProblems.notAfter, action, reasons };
}

/** Why the leaf on disk must be replaced, or its expiry when it may stay. */
async function checkLeaf(
  paths: { certFile: string; keyFile: string },
  names: { dnsNames: string[]; ipAddresses: string[] },
  trustedBundle: string,
  expiresSoon: (notAfter: Date) => boolean,
): Promise<{ problems: string[] } | { notAfter: Date }> {
  let leaf: CertificatePair | undefined;
  try {
    leaf = await readOptionalPair(paths.certFile, paths.keyFile);
  } catch (error) {
    return { problems: [`serving certificate unusable: ${(error as Error).message}`] };
  }
  if (leaf === undefined) return { problems: ['no serving certificate'] };
  const { x509 } = leaf;
  const problems: string[] = [];
  if (expiresSoon(leaf.notAfter)) problems.push(`serving certificate expires ${leaf.notAfter.toISOString()}`);
  const trusted = parsePemCertificates(trustedBundle).certificates.some((ca) => x509.checkIssued(ca.x509) && x509.verify(ca.x509.publicKey));
  if (!trusted) problems.push('serving certificate not signed by a CA in the bundle');
  const missing = [
    ...names.dnsNames.filter((name) => x509.checkHost(name, { wildcards: false }) === undefined),
    ...names.ipAddresses.filter((ip) => x509.checkIP(ip) === undefined),
  ];
  if (missing.length > 0) problems.push(`serving certificate does not cover ${missing.join(', ')}`);
  return problems.length > 0 ? { problems } : { notAfter: leaf.notAfter };
}

function toKeyPair(pair: CertificatePair): CertificateKeyPair {
  return { certPem: pair.cert, keyPem: pair.key, notBefore: new Date(pair.x509.validFrom), notAfter: pair.notAfter, serialNumber: pair.x509.serialNumber };
}

/** Writes ca.crt, ca.key, ca-bundle.crt (default: the CA alone), tls.key and tls.crt, keys 0600. */
export async function writeCertificateSet(
  certDir: string,
  set: { ca: CertificateKeyPair; serving: CertificateKeyPair; caBundlePem?: string },
): Promise<ReturnType<typeof certificatePaths>> {
  const paths = certificatePaths(certDir);
  await makeDirectory(certDir);
  await writeAtomically(paths.caKeyFile, set.ca.keyPem, 0o600);
  await writeAtomically(paths.caFile, set.ca.certPem, 0o644);
  await writeAtomically(paths.caBundleFile, set.caBundlePem ?? set.ca.certPem, 0o644);
  await writeLeaf(paths, set.serving);
  return paths;
}

async function writeLeaf(paths: { certFile: string; keyFile: string }, leaf: CertificateKeyPair): Promise<void> {
  // Key first: a reader that catches the moment between the two sees a mismatch and waits for the
  // next event, never a new certificate paired with a key it does not have yet.
  await writeAtomically(paths.keyFile, leaf.keyPem, 0o600);
  await writeAtomically(paths.certFile, leaf.certPem, 0o644);
}

/**
 * `mkdir -p`, one level at a time. Node's `mkdir({ recursive: true })` spins forever at 100% CPU
 * where mkdir(2) answers ENOENT under a parent that exists (`/proc/x`); here every error ends it.
 */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let current = resolve(dir); ; ) {
    try {
      if ((await stat(current)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), { code: 'ENOTDIR' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Write to a temporary file beside the target, then rename over it. */
export async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode });
    await chmod(temporary, mode);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CertificateError('MISSING_FILE', `file not found: ${file}`, file);
    throw new CertificateError('UNREADABLE_FILE', `cannot read ${file}: ${(error as Error).message}`, file);
  }
}

async function readOptionalText(file: string): Promise<string | undefined> {
  try {
    return await readText(file);
  } catch (error) {
    if (error instanceof CertificateError && error.code === 'MISSING_FILE') return undefined;
    throw error;
  }
}

/** undefined when either file is missing; throws when they exist but do not make a pair. */
async function readOptionalPair(certFile: string, keyFile: string, options: { goCheck?: boolean } = {}): Promise<CertificatePair | undefined> {
  const [cert, key] = await Promise.all([readOptionalText(certFile), readOptionalText(keyFile)]);
  if (cert === undefined || key === undefined) return undefined;
  return parseCertificatePair(cert, key, { certFile, keyFile, ...options });
}
