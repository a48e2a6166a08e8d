/**
 * Reads and parses a request body under a size limit and a deadline, then screens the parsed JSON
 * for depth bombs with an iterative walk (no recursion: a 10,000-deep body must not overflow the
 * stack here or in anything that runs after us). Prototype-pollution keys are not refused here:
 * JSON.parse makes them plain own properties, and only the judged parts of an object refuse them,
 * with a field path (backend/prototype-keys.ts); a key in oldObject or status never blocks a request.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { RequestError } from './errors.js';
import type { ReviewVersion } from './review.js';

export interface BodyLimits {
  maxBytes: number;
  /** Deepest nesting of objects/arrays accepted in the whole document. */
  maxDepth: number;
}

export interface RawBody {
  buffer: Buffer;
  /** Set when the body was larger than maxBytes (or refused by `admit`): only the head was kept, to look for the uid. */
  truncated: boolean;
  /** Set when `admit` refused a chunk (the memory budget was full): truncated for that reason. */
  overloaded?: boolean;
}

const HEAD_BYTES = 4096;

/**
 * Reads the whole body, keeping at most `maxBytes`; past that only the head is kept. A callback, not
 * a promise: it runs on every admission.
 */
export function readBody(
  stream: IncomingMessage,
  maxBytes: number,
  callback: (err: Error | undefined, body?: RawBody) => void,
  /** Asked before each chunk is kept; false: keep only the head from here on (memory budget). */
  admit?: (bytes: number) => boolean,
): void {
  const declared = Number(stream.headers['content-length']);
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = Number.isFinite(declared) && declared > maxBytes;
  let overloaded = false;
  let head: Buffer | undefined;

  const onData = (chunk: Buffer): void => {
    if (truncated) {
      if (!head) {
        head = Buffer.concat([...chunks, chunk]).subarray(0, HEAD_BYTES);
        chunks.length = 0;
      }
      return; // drain and drop: the answer is decided
    }
    size += chunk.length;
    if (admit !== undefined && size <= maxBytes && !admit(chunk.length)) overloaded = true;
    if (size > maxBytes || overloaded) {
      truncated = true;
      head = Buffer.concat([...chunks, chunk]).subarray(0, HEAD_BYTES);
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  };
  const cleanup = (): void => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('aborted', onAborted);
  };
  const onEnd = (): void => {
    cleanup();
    if (truncated) callback(undefined, { buffer: head ?? Buffer.alloc(0), truncated: true, ...(overloaded ? { overloaded } : {}) });
    else callback(undefined, { buffer: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), truncated: false });
  };
  const onError = (err: Error): void => {
    cleanup();
    callback(err);
  };
  const onAborted = (): void => onError(new RequestError('BAD_JSON', 'request body aborted by the client'));
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('aborted', onAborted);
}

/**
 * The uid of `request` from the head of an oversized body. Only the exact shape the API server
 * writes (uid is the first field of AdmissionRequest) counts, so we never echo some other uid.
 */
export function peekRequestUid(head: Buffer): string | undefined {
  const match = /"request"\s*:\s*\{\s*"uid"\s*:\s*"([A-Za-z0-9._:-]{1,128})"/.exec(head.toString('latin1'));
  return match?.[1];
}

/**
 * The AdmissionReview version from the head of an oversized body, so the refusal is answered in the
 * version asked. Only a top-level apiVersion before `request` counts (the API server writes kind,
 * apiVersion, then request); anything else is answered as admission.k8s.io/v1.
 */
export function peekReviewVersion(head: Buffer): ReviewVersion {
  const match = /^\s*\{\s*(?:"kind"\s*:\s*"AdmissionReview"\s*,\s*)?"apiVersion"\s*:\s*"(admission\.k8s\.io\/v1(?:beta1)?)"/.exec(head.toString('latin1'));
  return (match?.[1] as ReviewVersion | undefined) ?? 'admission.k8s.io/v1';
}

export interface ScreenResult {
  ok: boolean;
  error?: RequestError;
}

const tooDeep = (maxDepth: number): ScreenResult => ({ ok: false, error: new RequestError('TOO_DEEP', `JSON nesting deeper than ${maxDepth} levels`) });
const OK: ScreenResult = Object.freeze({ ok: true });

/**
 * Depth screening; one pass over every node, no recursion. It runs on every admission, so
 * it allocates nothing per node: two parallel stacks instead of a frame object, for-in (V8's enum
 * cache) instead of Object.keys.
 */
export function screenJson(value: unknown, maxDepth: number): ScreenResult {
  if (value === null || typeof value !== 'object') return OK;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return tooDeep(maxDepth);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (item !== null && typeof item === 'object') {
          nodes.push(item);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    for (const key in node) {
      const child = (node as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return OK;
}

export interface ParsedJson {
  value: unknown;
  /** Set when the JSON parsed but the request must still be refused (invalid UTF-8). */
  error?: RequestError;
}

/**
 * Parses UTF-8 JSON; JSON.parse makes `__proto__` an own property, never the prototype. Invalid
 * UTF-8 is refused, but still parsed (with replacement characters) so the refusal can carry the uid.
 */
export function parseJson(buffer: Buffer): ParsedJson {
  let value: unknown;
  try {
    value = JSON.parse(buffer.toString('utf8'));
  } catch (err) {
    throw new RequestError('BAD_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isUtf8(buffer)) return { value, error: new RequestError('BAD_UTF8', 'request body is not valid UTF-8') };
  return { value };
}
