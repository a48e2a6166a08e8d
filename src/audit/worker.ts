/**
 * The audit worker thread of `serve`: lists and watches the stored objects, judges them and writes
 * the reports, all off the admission thread, so neither judging nor its garbage collection delays
 * an admission. It follows the schema and policy sources itself (the same ConfigMaps, trust
 * boundary and last-valid-state rule as the server), and sends back log lines, metrics and the
 * GET /audit summary (worker-protocol.ts).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { cachedIsoTime } from '../observability/decision-log.js';
import { Metrics } from '../observability/metrics.js';
import { startPolicies } from '../policies/startup.js';
import { startSchemaRegistry } from '../schemas/startup.js';
import { BackgroundAudit } from './background.js';
import { AUDITED_RESOURCES } from './run.js';
import type { AuditWorkerConfig, HostMessage, WorkerMessage } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('audit/worker.js runs as a worker thread of serve');
const config = workerData as AuditWorkerConfig;
const send = (message: WorkerMessage): void => port.postMessage(message);

const logger = pino({ level: config.logLevel, base: { app: 'backend-webhook', thread: 'audit' }, timestamp: cachedIsoTime() }, { write: (line: string) => send({ type: 'log', line }) });
// The sources mirror the server's, which logs and counts their events already: quiet here.
const quiet = pino({ level: 'silent' });
const mirrored = new Metrics();
const kubeconfig = config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig };

/**
 * The audit runs at a lower CPU priority than the admission thread (Linux: nice applies per thread,
 * found through /proc/thread-self): when both want a core, the kernel gives it to admissions.
 */
export const AUDIT_NICE = 10;
function lowerPriority(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    setPriority(tid, AUDIT_NICE);
    return tid;
  } catch {
    return undefined; // not Linux (or not allowed): the audit shares the process's priority
  }
}
const tid = lowerPriority();
logger.debug({ tid, nice: tid === undefined ? undefined : AUDIT_NICE }, 'audit worker started');

process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection in the audit worker (kept running)'));

const schemas = await startSchemaRegistry({ schemaSource: 'kubernetes', schemaDir: '', trustedNamespaces: config.trustedNamespaces, ...kubeconfig }, quiet, mirrored);
const policies = await startPolicies({ schemaSource: 'kubernetes', trustedNamespaces: config.trustedNamespaces, ...(config.policyDir === undefined ? {} : { policyDir: config.policyDir }), ...kubeconfig }, quiet, mirrored);
const grantsMode = config.validation.crossNamespaceRefs ?? 'reference-grant';
const grants =
  grantsMode === 'reference-grant'
    ? new (await import('../references/kube-grants.js')).KubeReferenceGrantCache({ logger: quiet, ...(config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig }) })
    : undefined;
await grants?.start();
const validation = grants ? { ...config.validation, referenceGrants: grants } : config.validation;

const k8s = await import('@kubernetes/client-node');
const { clusterKubeConfig } = await import('../kube/kubeconfig.js');
const audit = new BackgroundAudit({
  kubeConfig: clusterKubeConfig(k8s, config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig }),
  resources: AUDITED_RESOURCES,
  handler: () => ({ schemas: schemas.snapshot(), options: validation, policies: { policies: policies.registry.snapshot(), namespaces: policies.namespaces } }),
  rulesVersion: () => [schemas.snapshot(), policies.registry.snapshot()],
  // Judging before the rules are loaded would report every extension as unknown.
  ready: () => schemas.isReady() && policies.isReady() && (grants?.hasSynced() ?? true),
  intervalMs: config.intervalMs,
  cpuShare: config.cpuShare,
  reportFormat: config.reportFormat,
  leaseNamespace: config.leaseNamespace,
  identity: config.identity,
  logger,
  metrics: {
    objects: (count) => send({ type: 'objects', count }),
    violations: (counts) => send({ type: 'violations', counts }),
    runFinished: (result, durationSeconds) => send({ type: 'run', result, ...(durationSeconds === undefined ? {} : { durationSeconds }) }),
  },
});
await audit.start();

// The summary goes to the server when it changed (GET /audit answers from the last one).
let lastSummary = '';
const publish = (): void => {
  const summary = audit.summary();
  const text = JSON.stringify(summary);
  if (text === lastSummary) return;
  lastSummary = text;
  send({ type: 'summary', summary });
};
publish();
const publisher = setInterval(publish, 250);

port.on('message', (message: HostMessage) => {
  if (message.type !== 'stop') return;
  clearInterval(publisher);
  void (async () => {
    await audit.stop().catch((error: unknown) => logger.warn({ err: error }, 'audit worker: stopping failed'));
    await Promise.allSettled([schemas.stop(), policies.stop(), grants?.stop()]);
    send({ type: 'stopped' });
    // Open watch sockets would keep the thread alive: the work is done and the Lease released.
    process.exit(0);
  })();
});
