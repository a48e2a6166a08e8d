/**
 * The composition root of `serve`: builds the logger, metrics, certificates, schema registry and
 * servers from a resolved ServeConfig, starts them, and wires graceful shutdown. No logic of its own.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildAdmissionServer, isServing } from '../admission/server.js';
import { configMapEndpoint } from '../admission/configmap-handler.js';
import { extensionSchemaReviewer } from '../schemas/configmap.js';
import { policyReviewerWith } from '../policies/default-extensions.js';
import { policiesRoute, policyContextFor, startPolicies } from '../policies/startup.js';
import { ShutdownController } from '../lifecycle/shutdown.js';
import { Metrics } from '../observability/metrics.js';
import { cachedIsoTime } from '../observability/decision-log.js';
import { stdoutLogSink, type LogSink } from '../observability/log-sink.js';
import { buildMetricsServer } from '../observability/metrics-server.js';
import { startSchemaRegistry } from '../schemas/startup.js';
import { auditRoute, startAudit } from '../audit/startup.js';
import { prepareServingTls } from './serve-tls.js';
import type { ServeConfig } from './serve-config.js';
import { UsageError } from './usage-error.js';
import type { KubeReferenceGrantCache } from '../references/kube-grants.js';

/**
 * JSON lines on stdout through a LogSink: batched (a write per line cost a fifth of an admission's
 * CPU), never blocking (a stalled stdout reader costs dropped, counted lines, not a frozen server),
 * flushed on exit, crashes included, as far as stdout takes it at once.
 */
export function createLogger(level: string, sink: LogSink = stdoutLogSink()): Logger {
  return pino({ level, base: { app: 'backend-webhook' }, timestamp: cachedIsoTime() }, sink);
}

/**
 * ReferenceGrants for cross-namespace references: watched in the cluster (--schema-source
 * kubernetes) when --cross-namespace-refs is reference-grant; otherwise there are none to read.
 */
async function startReferenceGrants(config: ServeConfig, logger: Logger): Promise<{ cache?: KubeReferenceGrantCache; isReady(): boolean }> {
  const mode = config.validation.crossNamespaceRefs ?? 'reference-grant';
  if (mode !== 'reference-grant') return { isReady: () => true };
  if (config.schemaSource !== 'kubernetes') {
    logger.info('no cluster (--schema-source files): no ReferenceGrants, so cross-namespace Secret and ConfigMap references are refused');
    return { isReady: () => true };
  }
  const { KubeReferenceGrantCache } = await import('../references/kube-grants.js');
  const cache = new KubeReferenceGrantCache({ logger, ...(config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig }) });
  await cache.start();
  return { cache, isReady: () => cache.hasSynced() };
}

export async function runServe(config: ServeConfig): Promise<void> {
  const logSink = stdoutLogSink({ maxBufferedBytes: config.logBufferSize });
  const logger = createLogger(config.logLevel, logSink);
  const metrics = new Metrics({ processMetrics: true, logLinesDropped: () => logSink.droppedLines });

  for (const file of [config.tlsCertFile, config.tlsKeyFile, config.clientCaFile]) {
    if (file !== undefined && !existsSync(file)) throw new UsageError(`file not found: ${file}`);
  }
  if (config.schemaSource === 'files' && !existsSync(config.schemaDir)) {
    throw new UsageError(`--schema-dir ${config.schemaDir} does not exist`);
  }
  if (config.policyDir !== undefined && !existsSync(config.policyDir)) {
    throw new UsageError(`--policy-dir ${config.policyDir} does not exist`);
  }

  const tls = await prepareServingTls(config, logger, metrics);
  const registry = await startSchemaRegistry(config, logger, metrics);
  const policies = await startPolicies(config, logger, metrics);
  const grants = await startReferenceGrants(config, logger);
  // One options object for the server's life (validation resolves it once); grants are a live lookup.
  const validation = grants.cache ? { ...config.validation, referenceGrants: grants.cache } : config.validation;
  const audit = startAudit({ ...config, validation }, { logger, metrics, writeLine: (line) => void logSink.write(line) });

  const app = buildAdmissionServer({
    tls: tls.serverOptions,
    logger,
    metrics,
    registry,
    validation,
    bodyLimit: config.bodyLimit,
    ...(config.admissionMemoryBudget === undefined ? {} : { memoryBudget: config.admissionMemoryBudget }),
    maxDepth: config.maxDepth,
    ready: () => policies.isReady() && grants.isReady() && !shutdown.isDraining,
    policies: policyContextFor(policies.registry, policies.namespaces, metrics),
    plugins: [policiesRoute(policies.registry), auditRoute(audit)],
    extraEndpoints: [
      configMapEndpoint({
        reviewers: [extensionSchemaReviewer, policyReviewerWith(() => registry.snapshot())],
        isTrustedNamespace: (ns) => registry.isTrustedNamespace(ns),
      }),
    ],
  });
  const ready = (): boolean => isServing(app) && registry.isReady() && policies.isReady() && grants.isReady() && !shutdown.isDraining;

  const metricsApp = config.metricsPort > 0 ? buildMetricsServer({ metrics, health: { ready } }) : undefined;
  const shutdown = new ShutdownController({
    app,
    logger,
    delayMs: config.shutdownDelaySeconds * 1000,
    graceMs: config.shutdownGraceSeconds * 1000,
    cleanups: [() => tls.stop(), () => audit.stop(), () => registry.stop(), () => policies.stop(), async () => grants.cache?.stop(), async () => metricsApp?.close()],
    // The last lines get what is left of delay + grace (at most a second) to reach stdout.
    flushLogs: (withinMs) => logSink.drain(Math.min(withinMs, 1000)),
    exit: (code) => process.exit(code),
  });
  shutdown.installSignalHandlers();
  // A stray rejected promise (a watcher, a timer) must not take the webhook down with it: Node
  // would exit on it by default. Logged and counted; the serving state is not affected by it.
  process.on('unhandledRejection', (reason) => {
    metrics.internalErrors.inc({ source: 'process' });
    logger.error({ err: reason }, 'unhandled promise rejection (kept serving)');
  });

  await app.listen({ port: config.port, host: config.host });
  tls.attach(app.server);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  let metricsPort: number | undefined;
  if (metricsApp) {
    await metricsApp.listen({ port: config.metricsPort, host: config.metricsHost });
    const maddr = metricsApp.server.address();
    metricsPort = typeof maddr === 'object' && maddr ? maddr.port : config.metricsPort;
  }
  logger.info(
    { port, host: config.host, metricsPort, certDir: resolve(config.certDir), schemaSource: config.schemaSource, caFile: tls.caFile },
    'backend-webhook listening',
  );
  if (config.injectCa) await tls.injectCa(config);
}
