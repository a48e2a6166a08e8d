/** `backend-webhook certs`: a fresh CA and serving certificate for the Service, written as PEM. */
import { existsSync } from 'node:fs';
import { writeCertificateSet, certificatePaths } from '../tls/cert-files.js';
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
  const paths = certificatePaths(options.outDir);
  const present = [paths.caFile, paths.caKeyFile, paths.certFile, paths.keyFile].filter((file) => existsSync(file));
  if (present.length > 0 && !options.force) {
    output.err(`error: ${present.join(', ')} already exist${present.length === 1 ? 's' : ''}; use --force to replace`);
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
