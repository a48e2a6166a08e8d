/**
 * One AdmissionReview endpoint as a Fastify plugin: read the body (bounded in size, depth and time),
 * decode the review, hand the typed request to a pure processor, encode the verdict in the version
 * asked. Every failure becomes an in-band refusal when a uid can be read, else an HTTP 400 JSON error.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app.js';
import type { Logger } from 'pino';
import { JudgingFailure } from '../backend/judging-failure.js';
import { servedKindNames } from '../kinds/registry.js';
import type { Metrics, RequestTally } from '../observability/metrics.js';
import { parseJson, peekRequestUid, peekReviewVersion, readBody, screenJson, type RawBody } from './body.js';
import { RequestError } from './errors.js';
import { badRequestVerdict, decodeReview, encodeReview, internalErrorVerdict, peekEnvelope, type AdmissionRequest, type ReviewVersion, type Verdict } from './review.js';
import { timeoutFromQuery } from './deadline.js';
import { decisionLineWriter } from '../observability/decision-log.js';
import type { TurnBatcher } from './batch.js';
import type { MemoryBudget } from './budget.js';

export interface AdmissionEndpoint {
  /** URL path, e.g. /validate. */
  path: string;
  /** Name used in logs and metrics, e.g. validate. */
  name: string;
  /** Builds the processor's context once per request (e.g. a schema snapshot). */
  handle: (req: AdmissionRequest) => Verdict;
}

export interface EndpointLimits {
  bodyLimit: number;
  maxDepth: number;
}

interface Deps {
  logger: Logger;
  metrics: Metrics;
  limits: EndpointLimits;
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** Label values come from requests: only known ones, so a caller cannot grow the metric set. */
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
const KNOWN_KINDS = new Set<string>([...servedKindNames(), 'ConfigMap']);
const metricKind = (kind: string): string => (KNOWN_KINDS.has(kind) ? kind : 'other');

declare module 'fastify' {
  interface FastifyRequest {
    /** Epoch ms after which the API server has given up on this call (from ?timeout=). */
    admissionDeadline?: number;
    /** Gives this request's share of the memory budget back (idempotent). */
    releaseBudget?: () => void;
    /** performance.now() when the request head had been read, before any of the body. */
    admissionStart?: number;
  }
}

/** The memory budget and what to count about it (see budget.ts). */
export interface BodyBudget {
  readonly budget: MemoryBudget;
  /** A request waited for room (`waited`) or was refused for lack of it (`refused`). */
  readonly onOverload?: (outcome: 'waited' | 'refused') => void;
}

/**
 * Body reading lives here, not in Fastify's JSON parser, so every failure can still be answered
 * in-band. A complete body is handed on through `batcher`: everything after it (decoding, judging,
 * answering) then runs for all the requests that arrived in the same turn, back to back.
 */
export function registerBodyReader(app: App, limits: EndpointLimits, batcher: TurnBatcher, memory?: BodyBudget): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    // Called as soon as the request head is parsed (no hooks run before it): the clock of
    // backend_webhook_admission_duration_seconds and durationMs starts here.
    request.admissionStart = performance.now();
    const deadlineMs = timeoutFromQuery((request.query as Record<string, unknown> | undefined)?.timeout);
    request.admissionDeadline = Date.now() + deadlineMs;
    let reserved = 0;
    if (memory) {
      const socket = request.raw.socket;
      const release = (): void => {
        socket?.off('close', release);
        if (reserved === 0) return;
        memory.budget.release(reserved);
        reserved = 0;
      };
      request.releaseBudget = release;
      // The handler releases once it has answered; a connection that dies before that releases here.
      socket?.once('close', release);
    }
    let settled = false;
    const settle = (value: RawBody | RequestError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Only complete bodies wait for the batch: a refusal is answered now, before the connection
      // is torn down (the deadline path destroys the stream right after).
      if (value instanceof RequestError) done(null, value);
      else batcher.defer(() => done(null, value));
    };
    // A slow sender gets an answer (and a closed connection) at the deadline, not a held socket.
    const timer = setTimeout(() => {
      settle(new RequestError('BODY_TIMEOUT', `request body did not arrive within ${deadlineMs} ms`, 408));
      payload.destroy();
    }, deadlineMs);
    timer.unref();
    const onBody = (err: Error | undefined, body?: RawBody): void => {
      if (err === undefined) settle(body!);
      else settle(err instanceof RequestError ? err : new RequestError('BAD_JSON', 'could not read the request body'));
    };
    if (!memory) return readBody(request.raw, limits.bodyLimit, onBody);
    const declared = Number(request.headers['content-length']);
    if (!Number.isFinite(declared) || declared < 0) {
      // No declared length: reserve as chunks arrive; once one does not fit, only the head is kept.
      return readBody(request.raw, limits.bodyLimit, onBody, (bytes) => {
        if (!memory.budget.grow(bytes)) return false;
        reserved += bytes;
        return true;
      });
    }
    // Too large anyway (only the head is kept) or nothing to read: nothing to reserve.
    if (declared > limits.bodyLimit || declared === 0) return readBody(request.raw, limits.bodyLimit, onBody);
    let waited = false;
    memory.budget.reserve(declared, request.admissionDeadline, (granted) => {
      if (settled) {
        // The deadline answered while we waited: give the room straight back.
        if (granted) memory.budget.release(declared);
        return;
      }
      if (!granted) {
        memory.onOverload?.('refused');
        // Read on, keeping only the head: the refusal can then be in-band, with the uid.
        return readBody(request.raw, limits.bodyLimit, onBody, () => false);
      }
      reserved = declared;
      if (waited) memory.onOverload?.('waited');
      readBody(request.raw, limits.bodyLimit, onBody);
    });
    waited = true;
  });
}

export function registerAdmissionEndpoint(app: App, endpoint: AdmissionEndpoint, deps: Deps): void {
  const { logger, metrics, limits } = deps;
  // Metric series bound once (plain increments on the request path; see observability/metrics.ts);
  // at most 256 label sets from this endpoint.
  const duration = metrics.admissionDuration.labels(endpoint.name);
  const tallies = new Map<string, RequestTally>();
  const countDecision = (kind: string, operation: string, result: string): void => {
    const key = `${kind}\u0000${operation}\u0000${result}`;
    let tally = tallies.get(key);
    if (!tally) {
      tally = metrics.admissionRequestTally(endpoint.name, kind, operation, result);
      if (tallies.size < 256) tallies.set(key, tally);
    }
    tally.count++;
  };

  const refuse = (reply: FastifyReply, apiVersion: ReviewVersion, uid: string | undefined, err: RequestError): FastifyReply => {
    metrics.badRequests.inc({ reason: err.code });
    logger.warn({ endpoint: endpoint.name, uid, code: err.code, err: err.message }, 'admission request refused');
    // Every answer counts, in-band or not: result="error" over all results is the error ratio.
    countDecision('', '', 'error');
    if (uid === undefined) {
      return reply.code(err.httpStatus).header('content-type', 'application/json').send(JSON.stringify(err.toJSON()));
    }
    return reply.code(200).header('content-type', 'application/json').send(encodeReview(apiVersion, { uid, ...badRequestVerdict(err) }));
  };

  const judge = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const deadline = request.admissionDeadline ?? Date.now() + timeoutFromQuery((request.query as Record<string, unknown> | undefined)?.timeout);
    const raw = request.body as RawBody | RequestError | undefined;
    if (raw instanceof RequestError) {
      reply.header('connection', 'close');
      return refuse(reply, 'admission.k8s.io/v1', undefined, raw);
    }
    if (raw === undefined) return refuse(reply, 'admission.k8s.io/v1', undefined, new RequestError('BAD_JSON', 'request body is empty'));
    if (raw.overloaded) {
      return refuse(
        reply,
        peekReviewVersion(raw.buffer),
        peekRequestUid(raw.buffer),
        new RequestError('OVERLOADED', 'the webhook is busy: too many large requests are being judged at once (admission memory budget); retry', 429),
      );
    }
    if (raw.truncated) {
      reply.header('connection', 'close');
      return refuse(reply, peekReviewVersion(raw.buffer), peekRequestUid(raw.buffer), new RequestError('BODY_TOO_LARGE', `request body exceeds the limit of ${limits.bodyLimit} bytes`));
    }

    let parsed;
    try {
      parsed = parseJson(raw.buffer);
    } catch (err) {
      return refuse(reply, 'admission.k8s.io/v1', undefined, err as RequestError);
    }
    // The parsed tree is what judging holds on to from here on.
    request.body = undefined;
    const envelope = peekEnvelope(parsed.value);
    const contentType = request.headers['content-type'];
    if (typeof contentType !== 'string' || !JSON_TYPE.test(contentType)) {
      return refuse(reply, envelope.apiVersion, envelope.uid, new RequestError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got ${JSON.stringify(contentType ?? '')}`));
    }
    if (parsed.error) return refuse(reply, envelope.apiVersion, envelope.uid, parsed.error);
    const screened = screenJson(parsed.value, limits.maxDepth);
    if (!screened.ok) return refuse(reply, envelope.apiVersion, envelope.uid, screened.error!);

    let review;
    try {
      review = decodeReview(parsed.value);
    } catch (err) {
      return refuse(reply, envelope.apiVersion, envelope.uid, err as RequestError);
    }
    const req = review.request;
    if (Date.now() > deadline) {
      return refuse(reply, review.apiVersion, req.uid, new RequestError('DEADLINE_EXCEEDED', 'the request deadline passed before it could be judged', 504));
    }

    let verdict: Verdict;
    let body: string;
    let stage = 'processor';
    try {
      verdict = endpoint.handle(req);
      stage = 'encoder';
      body = encodeReview(review.apiVersion, { uid: req.uid, ...verdict });
    } catch (err) {
      // A bug of ours (judging, or a verdict that cannot be encoded) must not become an HTTP 500:
      // fail closed, in-band, with a message kubectl shows.
      logger.error({ endpoint: endpoint.name, uid: req.uid, err }, `${stage} failed; denying`);
      metrics.internalErrors.inc({ source: stage === 'processor' && err instanceof JudgingFailure ? err.source : stage });
      verdict = internalErrorVerdict();
      body = encodeReview(review.apiVersion, { uid: req.uid, ...verdict });
    }
    // error: no verdict on the object (a request we cannot judge, 400, or our own failure, 500).
    const code = verdict.status?.code;
    const result = verdict.patch ? 'patched' : verdict.allowed ? 'allowed' : code === 400 || (code !== undefined && code >= 500) ? 'error' : 'denied';
    countDecision(metricKind(req.kind.kind), OPERATIONS.has(req.operation) ? req.operation : 'other', result);
    if (verdict.warnings?.length) metrics.admissionWarnings.inc({ endpoint: endpoint.name, kind: metricKind(req.kind.kind) }, verdict.warnings.length);
    afterAnswer(request, reply, req, verdict, deadline);
    return reply.code(200).header('content-type', 'application/json').send(body);
  };

  /**
   * Duration and decision line once the last byte of the answer is handed to the socket ('close'
   * follows 'finish', or a connection lost before that). An answer that never left is logged, not timed.
   */
  const afterAnswer = (request: FastifyRequest, reply: FastifyReply, req: AdmissionRequest, verdict: Verdict, deadline: number): void => {
    const start = request.admissionStart ?? performance.now();
    const res = reply.raw;
    res.on('close', () => {
      const durationMs = performance.now() - start;
      const answered = res.writableFinished;
      if (answered) duration.observe(durationMs / 1000);
      if (logger.isLevelEnabled('info')) logDecision(req, verdict, durationMs, deadline, answered);
    });
  };

  const writeDecisionLine = decisionLineWriter(logger, 'admission decision');
  const logDecision = (req: AdmissionRequest, verdict: Verdict, durationMs: number, deadline: number, answered: boolean): void => {
    writeDecisionLine({
      endpoint: endpoint.name,
      uid: req.uid,
      kind: req.kind.kind,
      namespace: req.namespace,
      name: req.name,
      operation: req.operation,
      dryRun: req.dryRun,
      allowed: verdict.allowed,
      code: verdict.status?.code,
      causes: verdict.status?.details?.causes.length,
      warnings: verdict.warnings?.length,
      patched: verdict.patch !== undefined,
      durationMs: Math.round(durationMs * 1000) / 1000,
      lateMs: Date.now() > deadline ? Date.now() - deadline : undefined,
      unanswered: answered ? undefined : true,
    });
  };

  // A plain handler that sends, not an async one: one promise fewer on every admission.
  app.post(endpoint.path, (request: FastifyRequest, reply: FastifyReply): void => {
    try {
      judge(request, reply);
    } finally {
      // Judged and answered (the answer is small): the body's share of the budget is free again.
      request.releaseBudget?.();
    }
  });
}
