/**
 * The HTTPS admission server: one place that registers every plugin. HTTP/1.1 only (the API server
 * never speaks HTTP/2 to webhooks), TLS 1.2+, bodies bounded, errors never leak a stack.
 */
import Fastify from 'fastify';
import type { App } from './app.js';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Logger } from 'pino';
import type { ValidationOptions } from '../backend/options.js';
import { registerHealthRoutes } from '../observability/health.js';
import type { Metrics } from '../observability/metrics.js';
import type { SchemaRegistry } from '../schemas/registry.js';
import { registerAdmissionEndpoint, registerBodyReader, type AdmissionEndpoint } from './endpoint.js';
import { mutateRequest, validateRequest, type HandlerContext } from './handlers.js';
import type { PolicyContext } from '../policies/evaluate.js';
import { RequestError } from './errors.js';
import { TurnBatcher } from './batch.js';
import { defaultMemoryBudget, MemoryBudget } from './budget.js';

export const DEFAULT_BODY_LIMIT = 7 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 100;

export interface AdmissionServerOptions {
  tls: HttpsServerOptions;
  logger: Logger;
  metrics: Metrics;
  registry: SchemaRegistry;
  validation: ValidationOptions;
  bodyLimit?: number;
  maxDepth?: number;
  /** Bytes of bodies read or judged at once (default: 4x bodyLimit); see budget.ts. */
  memoryBudget?: number;
  /** How long a request may wait for room in the budget (default DEFAULT_BUDGET_WAIT_MS). */
  memoryBudgetWaitMs?: number;
  /** Extra readiness gates (e.g. shutting down, policy registry synced). */
  ready?: () => boolean;
  /** More AdmissionReview endpoints (e.g. the ConfigMap webhook). */
  extraEndpoints?: AdmissionEndpoint[];
  /** Platform policies for each request (a fresh snapshot per call); absent: none. */
  policies?: () => PolicyContext;
  /** More routes, registered last (e.g. GET /extensions, GET /policies). */
  plugins?: Array<(app: App) => void>;
}

export function buildAdmissionServer(options: AdmissionServerOptions): App {
  const limits = { bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT, maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH };
  const app = Fastify({
    https: { minVersion: 'TLSv1.2', ...options.tls },
    // Fastify's own logger would make a child logger per request (~8% of throughput). Every line we
    // need (one per decision, refusals, errors) is written with options.logger directly instead.
    logger: false,
    bodyLimit: limits.bodyLimit,
    // The API server (Go) keeps idle connections 90 s; closing ours sooner races its reuse and
    // fails non-idempotent POSTs with EOF. Outlive it.
    keepAliveTimeout: 120_000,
    // Slowloris bound: the whole request, headers and body, within this time.
    requestTimeout: 60_000,
    return503OnClosing: false,
    exposeHeadRoutes: false,
    maxRequestsPerSocket: 0,
  }) as unknown as App;

  const batcher = new TurnBatcher({
    onFlush: (size) => options.metrics.admissionBatchSize.observe(size),
    onError: (err) => {
      // Fastify answers its own errors; anything escaping to here is a bug of ours: say so, keep serving.
      options.logger.error({ err }, 'admission batch job failed');
      options.metrics.internalErrors.inc({ source: 'batch' });
    },
  });
  const budget = new MemoryBudget({
    bytes: options.memoryBudget ?? defaultMemoryBudget(limits.bodyLimit),
    bodyLimit: limits.bodyLimit,
    ...(options.memoryBudgetWaitMs === undefined ? {} : { maxWaitMs: options.memoryBudgetWaitMs }),
  });
  options.metrics.watchAdmissionMemory(() => budget.inUse, () => budget.waiting, budget.capacity);
  registerBodyReader(app, limits, batcher, { budget, onOverload: (outcome) => options.metrics.admissionOverload.inc({ outcome }) });

  const context = (): HandlerContext => ({
    schemas: options.registry.snapshot(),
    options: options.validation,
    ...(options.policies ? { policies: options.policies() } : {}),
  });
  const endpoints: AdmissionEndpoint[] = [
    { path: '/validate', name: 'validate', handle: (req) => validateRequest(req, context()) },
    { path: '/mutate', name: 'mutate', handle: (req) => mutateRequest(req, context()) },
    ...(options.extraEndpoints ?? []),
  ];
  for (const endpoint of endpoints) registerAdmissionEndpoint(app, endpoint, { logger: options.logger, metrics: options.metrics, limits });

  registerHealthRoutes(app, { ready: () => isServing(app) && options.registry.isReady() && (options.ready?.() ?? true) });
  app.get('/extensions', async () => ({ types: options.registry.list() }));
  for (const plugin of options.plugins ?? []) plugin(app);

  app.setNotFoundHandler((request, reply) => {
    const err = new RequestError('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`, 404);
    return reply.code(404).send(err.toJSON());
  });
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) options.logger.error({ err: error, url: request.url }, 'unhandled error');
    // Never a stack, and for 500s not even the message: it may carry internals.
    return reply.code(status).send({ code: status === 500 ? 'INTERNAL' : (error.code ?? 'BAD_REQUEST'), statusCode: status, message: status === 500 ? 'internal error' : error.message });
  });
  return app;
}

/** True while the TLS listener accepts connections. */
export const isServing = (app: App): boolean => app.server.listening;
