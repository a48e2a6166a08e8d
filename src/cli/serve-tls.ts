/**
 * Serving certificates for `serve`: given files (--tls-cert-file/--tls-key-file) or a cert dir that
 * is self-managed (generated on first run, renewed before expiry) or external (a mounted Secret
 * without ca.key). Either way the files are watched and swapped into the live listener.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { certificatePaths } from '../tls/cert-files.js';
import { injectCaBundle } from '../tls/inject-ca.js';
import { secureContextOptions, serverTlsOptions } from '../tls/options.js';
import { CertificateReloader } from '../tls/reloader.js';
import type { TlsOptions } from 'node:tls';
import type { ServeConfig } from './serve-config.js';

export interface ServingTls {
  serverOptions: TlsOptions;
  /** CA file clients should trust (self-managed or mounted), when there is one. */
  caFile?: string;
  /** Starts swapping reloaded certificates into this listener. */
  attach(server: Server | import('node:http').Server): void;
  injectCa(config: ServeConfig): Promise<void>;
  stop(): void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function prepareServingTls(config: ServeConfig, logger: Logger, metrics: Metrics): Promise<ServingTls> {
  const explicit = config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined;
  const paths = certificatePaths(config.certDir);
  const certFile = explicit ? config.tlsCertFile! : paths.certFile;
  const keyFile = explicit ? config.tlsKeyFile! : paths.keyFile;
  // The bundle (old + new CA during a rotation) when there is one; resolved after files exist.
  const findCaFile = (): string | undefined => (explicit ? undefined : [paths.caBundleFile, paths.caFile].find((f) => existsSync(f)));
  let server: { setSecureContext(options: object): void } | undefined;

  const injectCa = async (): Promise<void> => {
    const file = findCaFile();
    if (!file) {
      logger.error('--inject-ca: no CA file to inject (use --cert-dir with a ca.crt)');
      return;
    }
    try {
      const results = await injectCaBundle({ caPem: readFileSync(file, 'utf8'), kubeconfig: config.kubeconfig, validatingName: config.webhookConfigName, mutatingName: config.webhookConfigName, logger });
      for (const r of results) logger[r.outcome === 'failed' ? 'error' : 'info']({ kind: r.kind, name: r.name, outcome: r.outcome, err: r.error?.message }, 'CA injection');
    } catch (err) {
      // Not fatal: the webhook still serves; the configuration's existing caBundle stays.
      logger.error({ err: (err as Error).message }, 'CA injection failed');
    }
  };

  const reloader = new CertificateReloader({
    certFile,
    keyFile,
    clientCaFile: config.clientCaFile,
    logger,
    metrics,
    onReload: (c) => server?.setSecureContext(secureContextOptions({ cert: c.cert, key: c.key, clientCa: c.clientCa })),
    selfManaged: explicit
      ? undefined
      : {
          certDir: config.certDir,
          serviceName: config.serviceName,
          namespace: config.serviceNamespace,
          renewBefore: config.certRenewBeforeDays * DAY_MS,
          onRenewed: config.injectCa ? injectCa : undefined,
        },
  });
  const initial = await reloader.start();
  return {
    serverOptions: serverTlsOptions({ cert: initial.cert, key: initial.key, clientCa: initial.clientCa }),
    caFile: findCaFile(),
    attach: (s) => {
      server = s as unknown as { setSecureContext(options: object): void };
    },
    injectCa: async () => injectCa(),
    stop: () => reloader.stop(),
  };
}
