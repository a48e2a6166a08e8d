/**
 * The Fastify instance type every plugin of ours receives. Both the HTTPS admission server and the
 * plain metrics server carry node's IncomingMessage/ServerResponse, so one type serves both.
 */
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>;
