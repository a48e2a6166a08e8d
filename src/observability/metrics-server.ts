/**
 * The plain-HTTP operations listener: Prometheus metrics and health for kubelet probes and scrapers
 * that should not need the webhook's CA. It serves no admission endpoint.
 */
import Fastify from 'fastify';
import type { App } from '../admission/app.js';
import { registerHealthRoutes, type HealthChecks } from './health.js';
import type { Metrics } from './metrics.js';

export function buildMetricsServer(options: { metrics: Metrics; health: HealthChecks }): App {
  const app = Fastify({ logger: false, exposeHeadRoutes: false }) as unknown as App;
  app.get('/metrics', async (_request, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.header('content-type', options.metrics.registry.contentType).send(body);
  });
  registerHealthRoutes(app, options.health);
  return app;
}
