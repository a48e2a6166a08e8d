/** `backend-webhook serve`: flags, their environment variables and defaults. */
import { Command } from 'commander';
import { defaultExtensionSchemaDir } from '../schemas/file-source.js';
import { flag } from './option.js';
import { addValidationFlags, validationOptionsOf, type RawValidationFlags } from './validation-flags.js';
import { DEFAULT_LOG_BUFFER_BYTES } from '../observability/log-sink.js';
import {
  parseBoolean,
  parseByteSize,
  parseChoice,
  parseDnsLabel,
  parseDnsSubdomain,
  parseDuration,
  parseIntInRange,
  parseMemorySize,
  parseHeapSize,
  parseCpuShare,
  parsePortOrZero,
  repeatable,
} from './parsers.js';
import type { ServeConfig } from './serve-config.js';
import { UsageError } from './usage-error.js';
import { CertificateError } from '../tls/cert-files.js';
import { CertificateGenerationError } from '../tls/generate.js';
import { FileSourceError } from '../schemas/file-source.js';
import { KubeSourceError } from '../schemas/kube-source.js';

export const DEFAULT_SERVICE_NAME = 'backend-webhook';
export const DEFAULT_SERVICE_NAMESPACE = 'backend-webhook-system';

/** What commander hands the action: ServeConfig, except where a flag's name or shape differs. */
type RawServeOptions = Omit<ServeConfig, 'trustedNamespaces' | 'validation' | 'auditIntervalMs' | 'auditMaxHeapMiB'> & {
  auditInterval: number;
  auditMaxHeap: number;
  trustedNamespace?: string[];
} & RawValidationFlags;

export function serveCommand(): Command {
  const serve = new Command('serve')
    .description('Serve the admission webhook over HTTPS (embedded defaults: self-signed certs in certs/, schemas from files)')
    .addOption(flag('--port <port>', 'HTTPS port (0: any free port)').argParser(parsePortOrZero).default(8443))
    .addOption(flag('--host <address>', 'address to listen on').default('0.0.0.0'))
    .addOption(flag('--cert-dir <dir>', 'directory of tls.crt/tls.key (generated with a CA on first run when absent)').default('certs'))
    .addOption(flag('--tls-cert-file <file>', 'serving certificate (PEM); overrides --cert-dir'))
    .addOption(flag('--tls-key-file <file>', 'serving key (PEM); overrides --cert-dir'))
    .addOption(flag('--client-ca-file <file>', 'require client certificates signed by this CA (mutual TLS with the API server)'))
    .addOption(flag('--cert-renew-before-days <days>', 'renew self-managed certificates this long before expiry').argParser(parseIntInRange(1, 3650)).default(30))
    .addOption(flag('--service-name <name>', 'Service name, for the generated certificate SANs').argParser(parseDnsLabel).default(DEFAULT_SERVICE_NAME))
    .addOption(flag('--service-namespace <ns>', 'Service namespace, for the generated certificate SANs').argParser(parseDnsLabel).default(DEFAULT_SERVICE_NAMESPACE))
    .addOption(flag('--schema-source <source>', 'where extension schemas come from: files or kubernetes').argParser(parseChoice(['files', 'kubernetes'] as const)).default('files'))
    .addOption(flag('--schema-dir <dir>', 'directory of extension-schema ConfigMap YAML files').default(defaultExtensionSchemaDir(), 'schemas/extensions'))
    .addOption(flag('--policy-dir <dir>', 'directory of platform-policy ConfigMap YAML files, watched (default: none; with kubernetes, read as well)'))
    .addOption(flag('--trusted-namespace <ns>', 'namespace allowed to register schemas (repeatable; default: the pod namespace)').argParser(repeatable(parseDnsLabel)))
    .addOption(flag('--kubeconfig <file>', 'kubeconfig for the kubernetes source (default: in-cluster)'))
    .addOption(flag('--metrics-port <port>', 'plain-HTTP port for /metrics, /healthz, /readyz (0: off)').argParser(parsePortOrZero).default(9090))
    .addOption(flag('--metrics-host <address>', 'address for the metrics listener').default('0.0.0.0'))
    .addOption(flag('--body-limit <size>', 'largest accepted request body (7Mi: an UPDATE carries two objects)').argParser(parseByteSize).default(7 * 1024 * 1024))
    .addOption(flag('--admission-memory-budget <size>', 'bytes of request bodies read or judged at once; past it requests wait briefly, then get code 429 (default: 4x --body-limit)').argParser(parseMemorySize))
    .addOption(flag('--max-depth <levels>', 'deepest JSON nesting accepted').argParser(parseIntInRange(16, 1000)).default(100))
    .addOption(flag('--log-level <level>', 'log level').argParser(parseChoice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const)).default('info'))
    .addOption(flag('--log-buffer-size <size>', 'log output held while stdout is slow; past it lines are dropped and counted').argParser(parseByteSize).default(DEFAULT_LOG_BUFFER_BYTES, '1Mi'))
    .addOption(flag('--shutdown-delay-seconds <s>', 'keep answering this long after SIGTERM while endpoints drain').argParser(parseIntInRange(0, 300)).default(10))
    .addOption(flag('--shutdown-grace-seconds <s>', 'then wait at most this long for in-flight requests').argParser(parseIntInRange(1, 300)).default(30))
    .addOption(flag('--inject-ca [bool]', 'patch our CA into the webhook configurations at start-up').argParser(parseBoolean).default(false))
    .addOption(flag('--webhook-config-name <name>', 'name of our Validating/MutatingWebhookConfiguration').argParser(parseDnsSubdomain).default('backend-webhook'))
    .addOption(flag('--audit-interval <duration>', 're-judge every stored Backend this often and keep PolicyReports (kubernetes source only; 0: off)').argParser(parseDuration).default(600_000, '10m'))
    .addOption(flag('--audit-report-format <format>', 'report kind: wgpolicyk8s (PolicyReport) or openreports (Report)').argParser(parseChoice(['wgpolicyk8s', 'openreports'] as const)).default('wgpolicyk8s'))
    .addOption(flag('--audit-max-heap <size>', 'heap limit of the audit worker thread; past it the worker restarts, admissions go on').argParser(parseHeapSize).default(256, '256Mi'))
    .addOption(flag('--audit-max-cpu <share>', 'most of a core the audit takes while judging (0.05-1); it pauses between slices to stay under it').argParser(parseCpuShare).default(0.25));
  return addValidationFlags(serve)
    .action(async (raw: RawServeOptions) => {
      const config = resolveServeConfig(raw);
      const { runServe } = await import('./serve.js');
      try {
        await runServe(config);
      } catch (err) {
        // Start-up problems the operator fixes with a flag or a file: exit 2 with one line, like a bad flag.
        if (err instanceof CertificateError || err instanceof CertificateGenerationError || err instanceof FileSourceError || err instanceof KubeSourceError) {
          throw new UsageError(err.message);
        }
        throw err;
      }
    });
}

export function resolveServeConfig(raw: RawServeOptions): ServeConfig {
  const { trustedNamespace, clusterDomain, internalDomain, deniedCidr, mcpVersion, unknownExtensionPolicy, crossNamespaceRefs, auditInterval, auditMaxHeap, ...sameAsFlags } = raw;
  const validation = validationOptionsOf({ clusterDomain, internalDomain, deniedCidr, mcpVersion, unknownExtensionPolicy, crossNamespaceRefs });
  if ((sameAsFlags.tlsCertFile === undefined) !== (sameAsFlags.tlsKeyFile === undefined)) {
    throw new UsageError('--tls-cert-file and --tls-key-file go together');
  }
  if (sameAsFlags.admissionMemoryBudget !== undefined && sameAsFlags.admissionMemoryBudget < sameAsFlags.bodyLimit) {
    throw new UsageError(`--admission-memory-budget (${sameAsFlags.admissionMemoryBudget} bytes) must be at least --body-limit (${sameAsFlags.bodyLimit} bytes)`);
  }
  return {
    ...sameAsFlags,
    trustedNamespaces: trustedNamespace ?? [],
    auditIntervalMs: auditInterval,
    auditMaxHeapMiB: auditMaxHeap,
    validation,
  };
}
