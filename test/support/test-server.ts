/**
 * Starts the real HTTPS admission server on 127.0.0.1:<random> with a freshly generated CA (made
 * once per test file: node-forge key generation is slow), and a client that trusts only that CA.
 */
import pino from 'pino';
import { buildAdmissionServer, type AdmissionServerOptions } from '../../src/admission/server.js';
import type { App } from '../../src/admission/app.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { Metrics } from '../../src/observability/metrics.js';
import type { SchemaRegistry } from '../../src/schemas/registry.js';
import { generateServingBundle } from '../../src/tls/generate.js';
import { HttpsClient } from './https-client.js';
import { captureLog, recordAnswers, type AnswerSeen, type LogCapture } from './log-capture.js';
import { StaticSchemaRegistry } from './static-registry.js';

let bundle: ReturnType<typeof generateServingBundle> | undefined;

/** One CA + serving certificate per test process. */
export function testCertificates(): ReturnType<typeof generateServingBundle> {
  bundle ??= generateServingBundle({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
  return bundle;
}

export interface TestServer {
  app: App;
  port: number;
  url: string;
  ca: string;
  client: HttpsClient;
  metrics: Metrics;
  registry: SchemaRegistry;
  /** With captureLogs: the server's log lines and the admission answers the client received. */
  log?: LogCapture;
  answers: AnswerSeen[];
  close(): Promise<void>;
}

export type TestServerOptions = Partial<Omit<AdmissionServerOptions, 'tls' | 'logger' | 'metrics'>> & {
  logLevel?: string;
  /** Log at the default level (info) into memory, as production formats it (test/support/log-capture.ts). */
  captureLogs?: boolean;
  /** Where log lines go (default stdout); e.g. a Writable that captures them. */
  logDestination?: pino.DestinationStream;
};

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { ca, serving } = testCertificates();
  const metrics = new Metrics();
  const registry = options.registry ?? new StaticSchemaRegistry();
  const log = options.captureLogs ? captureLog(options.logLevel ?? 'info') : undefined;
  const app = buildAdmissionServer({
    validation: DEFAULT_VALIDATION_OPTIONS,
    ...options,
    registry,
    tls: { cert: serving.certPem, key: serving.keyPem },
    logger: log?.logger ?? (options.logDestination ? pino({ level: options.logLevel ?? 'silent' }, options.logDestination) : pino({ level: options.logLevel ?? 'silent' })),
    metrics,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `https://localhost:${port}`;
  const client = new HttpsClient(url, ca.certPem);
  const answers = log ? recordAnswers(client) : [];
  return {
    app,
    port,
    url,
    ca: ca.certPem,
    client,
    metrics,
    registry,
    ...(log ? { log } : {}),
    answers,
    async close() {
      client.close();
      await app.close();
    },
  };
}

/** One test server per distinct set of validation options (they are server flags), started on demand. */
export class TestServerPool {
  private readonly servers = new Map<string, TestServer>();

  constructor(private readonly base: () => TestServerOptions = () => ({})) {}

  async for(options: object | undefined): Promise<TestServer> {
    const key = JSON.stringify(options ?? {});
    let server = this.servers.get(key);
    if (!server) {
      server = await startTestServer({ ...this.base(), validation: { ...DEFAULT_VALIDATION_OPTIONS, ...(options ?? {}) } });
      this.servers.set(key, server);
    }
    return server;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close()));
  }
}
