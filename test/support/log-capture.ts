/**
 * The server's log at the default level (info), captured: a pino logger built like production's
 * (src/cli/serve.ts: base app, ISO time from cachedIsoTime) writing into memory, and the answers
 * the test client received, so a suite can check that every admission left exactly one line
 * (a decision, or a refusal) that parses and says what the answer said.
 */
import pino, { type Logger } from 'pino';
import { expect } from 'vitest';
import { cachedIsoTime } from '../../src/observability/decision-log.js';
import type { HttpsClient, HttpsResponse } from './https-client.js';

export interface LogCapture {
  logger: Logger;
  /** Raw lines as written (split on newlines; the decision log writes several at once). */
  raw: string[];
  clear(): void;
}

export function captureLog(level = 'info'): LogCapture {
  const raw: string[] = [];
  let partial = '';
  const stream = {
    write(chunk: string): void {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        raw.push(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    },
  };
  const logger = pino({ level, base: { app: 'backend-webhook' }, timestamp: cachedIsoTime() }, stream);
  return {
    logger,
    raw,
    clear() {
      raw.length = 0;
    },
  };
}

/** What one admission answer said, as the client saw it. */
export interface AnswerSeen {
  path: string;
  status: number;
  uid?: string;
  allowed?: boolean;
  code?: number;
  patched?: boolean;
  causes?: number;
  warnings?: number;
  badRequest?: string;
  /** For an HTTP 4xx JSON error: its code. */
  errorCode?: string;
}

const ADMISSION_PATH = /^\/(validate|mutate|validate-extension-schema)(\?|$)/;

/** Records every admission answer `client` receives (send and postJson). */
export function recordAnswers(client: HttpsClient): AnswerSeen[] {
  const seen: AnswerSeen[] = [];
  const send = client.send.bind(client);
  client.send = async (method, path, body, headers): Promise<HttpsResponse> => {
    const res = await send(method, path, body, headers);
    if (method === 'POST' && ADMISSION_PATH.test(path)) {
      const r = res.json?.response;
      if (res.status === 200 && res.json?.kind === 'AdmissionReview' && r) {
        seen.push({
          path,
          status: res.status,
          uid: r.uid,
          allowed: r.allowed,
          code: r.status?.code,
          patched: 'patch' in r,
          causes: r.status?.details?.causes?.length,
          warnings: r.warnings?.length,
          badRequest: r.auditAnnotations?.['bad-request'],
        });
      } else {
        seen.push({ path, status: res.status, errorCode: res.json?.code });
      }
    }
    return res;
  };
  return seen;
}

const endpointOf = (path: string): string => /^\/([a-z-]+)/.exec(path)![1]!;
const signature = (endpoint: string, allowed: unknown, code: unknown, patched: unknown, causes: unknown, warnings: unknown): string =>
  JSON.stringify([endpoint, allowed, code ?? null, patched, causes ?? null, warnings ?? null]);

/**
 * Checks the captured log against the answers seen: every line is JSON with level, time, app and
 * msg; every in-band answer has exactly one line with its uid (a decision line with the same
 * verdict, or a refusal line with the same bad-request code); no decision line without an answer;
 * every HTTP 4xx refusal has a refusal line with its code. Waits (up to `timeoutMs`) for the lines,
 * which are written at the end of the event-loop turn.
 */
export async function expectOneLinePerAdmission(log: LogCapture, answers: AnswerSeen[], timeoutMs = 10_000): Promise<void> {
  const check = (): void => {
    const lines = log.raw.map((text) => {
      let line: any;
      expect(() => (line = JSON.parse(text)), `a log line that is not JSON: ${text.slice(0, 300)}`).not.toThrow();
      expect(line, text.slice(0, 300)).toMatchObject({ level: expect.any(Number), app: 'backend-webhook', msg: expect.any(String) });
      expect(new Date(line.time).toISOString(), 'time is an ISO timestamp').toBe(line.time);
      return line;
    });
    const decisions = lines.filter((l) => l.msg === 'admission decision');
    const refusals = lines.filter((l) => l.msg === 'admission request refused');
    for (const d of decisions) {
      expect(d.level).toBe(30);
      expect(d, JSON.stringify(d)).toMatchObject({ endpoint: expect.any(String), uid: expect.any(String), kind: expect.any(String), operation: expect.any(String), dryRun: expect.any(Boolean), allowed: expect.any(Boolean), patched: expect.any(Boolean), durationMs: expect.any(Number) });
      expect(d.durationMs).toBeGreaterThanOrEqual(0);
      for (const key of ['namespace', 'name']) if (key in d) expect(typeof d[key]).toBe('string');
      expect(JSON.stringify(d), 'never a request body in the log').not.toMatch(/"spec"|"rawConfig"|"object"/);
    }
    for (const r of refusals) {
      expect(r.level).toBe(40);
      expect(r, JSON.stringify(r)).toMatchObject({ endpoint: expect.any(String), code: expect.any(String), err: expect.any(String) });
    }

    // An in-band refusal (bad body, deadline: a refusal line with the code) and a judged bad request
    // (an unserved kind: a decision line) look alike on the wire: code 400 with bad-request.
    const sigOf = (endpoint: string, allowed: unknown, code: unknown, patched: unknown, causes: unknown, warnings: unknown): string =>
      code === 400 ? `bad|${endpoint}` : signature(endpoint, allowed, code, patched, causes, warnings);
    const byUid = new Map<string, { answers: string[]; lines: string[]; badCodes: string[] }>();
    const slot = (uid: string) => byUid.get(uid) ?? byUid.set(uid, { answers: [], lines: [], badCodes: [] }).get(uid)!;
    for (const a of answers.filter((x) => x.uid !== undefined)) {
      const entry = slot(a.uid!);
      entry.answers.push(sigOf(endpointOf(a.path), a.allowed, a.code, a.patched, a.causes, a.warnings));
      if (a.badRequest) entry.badCodes.push(a.badRequest);
    }
    for (const d of decisions) slot(d.uid).lines.push(sigOf(d.endpoint, d.allowed, d.code, d.patched, d.causes, d.warnings));
    for (const r of refusals.filter((x) => x.uid !== undefined)) {
      const entry = slot(r.uid);
      entry.lines.push(`bad|${r.endpoint}`);
      expect(entry.badCodes, `the refusal logged for uid ${r.uid} is the one answered`).toContain(r.code);
    }
    for (const [uid, { answers: a, lines: l }] of byUid) {
      expect([...l].sort(), `log lines for uid ${uid} (answers: ${JSON.stringify(a)})`).toEqual([...a].sort());
    }
    const anonymous = refusals.filter((x) => x.uid === undefined).map((x) => x.code);
    for (const a of answers.filter((x) => x.uid === undefined && x.status >= 400 && x.status < 500)) {
      expect(anonymous, `a refusal line for the HTTP ${a.status} ${a.errorCode} answer`).toContain(a.errorCode);
      anonymous.splice(anonymous.indexOf(a.errorCode!), 1);
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
