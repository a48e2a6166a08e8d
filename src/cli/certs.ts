/** `backend-webhook certs`: a fresh CA and serving certificate for the Service, written as PEM. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { certificatePaths, ensureServingCertificates, writeCertificateSet } from '../tls/cert-files.js';
import { parsePemCertificates } from '../tls/pem.js';
import { CertificateGenerationError, defaultServingNames, generateCa, generateServingCertificate } from '../tls/generate.js';

export interface CertsCommandOptions {
  outDir: string;
  /** Added to the defaults (localhost and the Service's in-cluster names). */
  dnsNames: string[];
  /** Added to the defaults (127.0.0.1 and ::1). */
  ipAddresses: string[];
  serviceName: string;
  namespace: string;
  /** Serving certificate validity; the CA gets 5 years, or longer if this is longer. */
  validityDays: number;
  force: boolean;
  /** Keep ca.key/ca.crt, issue a new serving certificate from them. */
  renew?: boolean;
  /** New CA; ca-bundle.crt holds the old (unexpired) CAs and the new one; the serving certificate stays. */
  rotateCa?: boolean;
}

export interface CommandOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

let stdoutGuarded = false;

/**
 * `certs ... | head` closes the pipe early: the next write fails with EPIPE, which as an unhandled
 * 'error' event would print a stack. One line on stderr and exit code 2 instead (the files are
 * written before anything is printed).
 */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    const why = error.code === 'EPIPE' ? 'standard output was closed before all output was written (EPIPE)' : `cannot write to standard output: ${error.message}`;
    process.stderr.write(`error: ${why}\n`, () => process.exit(2));
  });
}

export const processOutput: CommandOutput = {
  out: (line) => {
    guardStdout();
    process.stdout.write(`${line}\n`);
  },
  err: (line) => process.stderr.write(`${line}\n`),
};

const CA_VALIDITY_DAYS = 5 * 365;

/** Exit codes: 0 written, 1 nothing written because files exist (without force), 2 bad names or an I/O error. */
export async function runCertsCommand(options: CertsCommandOptions, output: CommandOutput = processOutput): Promise<number> {
  if (options.renew || options.rotateCa) return renewOrRotate(options, output);
  const paths = certificatePaths(options.outDir);
  const present = [paths.caFile, paths.caKeyFile, paths.certFile, paths.keyFile].filter((file) => existsSync(file));
  if (present.length > 0 && !options.force) {
    output.err(`error: ${present.join(', ')} already exist${present.length === 1 ? 's' : ''}; use --renew (new serving certificate, same CA), --rotate-ca, or --force (a new CA that callers do not trust yet)`);
    return 1;
  }
  const defaults = defaultServingNames(options.serviceName, options.namespace);
  const dnsNames = [...new Set([...defaults.dnsNames, ...options.dnsNames])];
  const ipAddresses = [...new Set([...defaults.ipAddresses, ...options.ipAddresses])];
  let ca;
  let serving;
  try {
    ca = generateCa({ validityDays: Math.max(CA_VALIDITY_DAYS, options.validityDays) });
    serving = generateServingCertificate(ca, { dnsNames, ipAddresses, validityDays: options.validityDays });
  } catch (error) {
    if (error instanceof CertificateGenerationError) {
      output.err(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
  try {
    await writeCertificateSet(options.outDir, { ca, serving });
  } catch (error) {
    output.err(`error: cannot write to ${options.outDir}: ${(error as Error).message}`);
    return 2;
  }
  output.out(`wrote ${paths.caFile} (CA, valid until ${ca.notAfter.toISOString()})`);
  output.out(`wrote ${paths.caKeyFile} (CA key, mode 0600)`);
  output.out(`wrote ${paths.caBundleFile} (CA bundle for caBundle injection)`);
  output.out(`wrote ${paths.certFile} (serving certificate, valid until ${serving.notAfter.toISOString()})`);
  output.out(`wrote ${paths.keyFile} (serving key, mode 0600)`);
  output.out(`  DNS names: ${dnsNames.join(', ')}`);
  output.out(`  IP addresses: ${ipAddresses.join(', ')}`);
  return 0;
}

/**
 * `--renew` and `--rotate-ca`: the self-managed rotation the server runs on its own
 * (ensureServingCertificates), forced one step at a time. Renewing keeps the CA, so callers'
 * caBundle stays right. Rotating writes a new CA and keeps the old one in ca-bundle.crt (until it
 * expires) while the serving certificate from the old CA goes on serving: inject the bundle, then
 * `--renew` moves the serving certificate to the new CA without a moment of distrust.
 */
async function renewOrRotate(options: CertsCommandOptions, output: CommandOutput): Promise<number> {
  if (options.renew && options.rotateCa) {
    output.err('error: --renew and --rotate-ca are separate steps: --rotate-ca, inject ca-bundle.crt, then --renew');
    return 2;
  }
  if (options.force) {
    output.err(`error: --force makes a new CA whose bundle drops the old one; with --${options.renew ? 'renew' : 'rotate-ca'} it is not needed`);
    return 2;
  }
  const paths = certificatePaths(options.outDir);
  const missing = [paths.caFile, paths.caKeyFile].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    output.err(`error: ${missing.join(' and ')} not found; run \`certs --out-dir ${options.outDir}\` first (a CA without its key, e.g. a cert-manager Secret, is renewed by its issuer)`);
    return 1;
  }
  let set;
  try {
    set = await ensureServingCertificates({
      certDir: options.outDir,
      serviceName: options.serviceName,
      namespace: options.namespace,
      extraDnsNames: options.dnsNames,
      extraIps: options.ipAddresses,
      leafValidityDays: options.validityDays,
      caValidityDays: Math.max(CA_VALIDITY_DAYS, options.validityDays),
      // Renew: the leaf is always due, the CA only if it has expired. Rotate: the other way round.
      renewBefore: options.renew ? Number.POSITIVE_INFINITY : 0,
      caRenewBefore: options.rotateCa ? Number.POSITIVE_INFINITY : 0,
    });
  } catch (error) {
    if (error instanceof CertificateGenerationError) {
      output.err(`error: ${error.message}`);
      return 2;
    }
    output.err(`error: cannot renew in ${options.outDir}: ${(error as Error).message}`);
    return 2;
  }
  const bundled = parsePemCertificates(await readFile(paths.caBundleFile, 'utf8')).certificates.length;
  if (set.action === 'rotated-ca') {
    output.out(`wrote ${paths.caFile} and ${paths.caKeyFile} (new CA, valid until ${set.caNotAfter?.toISOString()})`);
    output.out(`wrote ${paths.caBundleFile} (${bundled} CAs: the previous ones until they expire, and the new one)`);
  }
  if (set.action === 'renewed-leaf' || (set.action === 'rotated-ca' && options.renew)) {
    output.out(`wrote ${paths.certFile} and ${paths.keyFile} (serving certificate from the CA in ${paths.caFile}, valid until ${set.certNotAfter.toISOString()})`);
  } else if (options.rotateCa) {
    output.out(`kept ${paths.certFile} (from the previous CA, valid until ${set.certNotAfter.toISOString()}): inject ${paths.caBundleFile}, then run certs --renew`);
  }
  for (const reason of set.reasons) output.out(`  because: ${reason}`);
  return 0;
}
