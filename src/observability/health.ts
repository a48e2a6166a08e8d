/** Liveness and readiness, served on the HTTPS port and on the plain metrics port alike. */
import type { App } from '../admission/app.js';

export interface HealthChecks {
  /** Ready to take admission traffic: TLS listener serving, registries synced, not shutting down. */
  ready: () => boolean;
}

export function registerHealthRoutes(app: App, checks: HealthChecks): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = checks.ready();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
}
