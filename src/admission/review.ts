/**
 * The AdmissionReview codec: admission.k8s.io/v1 and v1beta1 share one shape for everything we
 * read and write, so one decoder serves both and the answer echoes the version asked.
 */
import { RequestError } from './errors.js';
import type { FieldError } from '../backend/field-errors.js';
import { errorBody } from '../backend/field-errors.js';
import { MAX_CAUSES } from '../backend/limits.js';

export const REVIEW_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type ReviewVersion = (typeof REVIEW_VERSIONS)[number];

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** The typed request handed to handlers (only what they use, plus what logs need). */
export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource?: GroupVersionResource;
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun: boolean;
}

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface Status {
  apiVersion?: 'v1';
  kind?: 'Status';
  metadata?: Record<string, never>;
  status: 'Failure';
  code: number;
  reason: string;
  message: string;
  details?: { name: string; group: string; kind: string; causes: StatusCause[] };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: Status;
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** What a handler decides; the uid is the codec's business. */
export type Verdict = Omit<AdmissionResponse, 'uid'>;

export interface DecodedReview {
  apiVersion: ReviewVersion;
  request: AdmissionRequest;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const optionalString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The API server's uids are 36 characters; a longer one is not echoed (answers stay small). */
const MAX_UID_LENGTH = 256;

/** Reads what can be read for an in-band refusal: the version and the uid. */
export function peekEnvelope(body: unknown): { apiVersion: ReviewVersion; uid?: string } {
  if (!isObject(body)) return { apiVersion: 'admission.k8s.io/v1' };
  const apiVersion = REVIEW_VERSIONS.includes(body.apiVersion as ReviewVersion) ? (body.apiVersion as ReviewVersion) : 'admission.k8s.io/v1';
  const request = body.request;
  const uid = isObject(request) && typeof request.uid === 'string' && request.uid.length > 0 && request.uid.length <= MAX_UID_LENGTH ? request.uid : undefined;
  return { apiVersion, uid };
}

function readGvk(v: unknown, field: string): GroupVersionKind {
  if (!isObject(v) || typeof v.kind !== 'string' || typeof v.version !== 'string') {
    throw new RequestError('BAD_REQUEST_FIELD', `request.${field} must be an object with group, version and kind`);
  }
  return { group: optionalString(v.group) ?? '', version: v.version, kind: v.kind };
}

export function decodeReview(body: unknown): DecodedReview {
  if (!isObject(body)) throw new RequestError('NOT_ADMISSION_REVIEW', 'body must be a JSON object (an AdmissionReview)');
  if (body.kind !== 'AdmissionReview' || !REVIEW_VERSIONS.includes(body.apiVersion as ReviewVersion)) {
    throw new RequestError(
      'NOT_ADMISSION_REVIEW',
      `expected kind AdmissionReview with apiVersion ${REVIEW_VERSIONS.join(' or ')}, got ${JSON.stringify(body.kind)} ${JSON.stringify(body.apiVersion)}`.slice(0, 300),
    );
  }
  const request = body.request;
  if (!isObject(request)) throw new RequestError('MISSING_REQUEST', 'AdmissionReview has no request');
  if (typeof request.uid !== 'string' || request.uid.length === 0) throw new RequestError('MISSING_UID', 'request.uid is missing');
  if (request.uid.length > MAX_UID_LENGTH) throw new RequestError('BAD_REQUEST_FIELD', `request.uid is longer than ${MAX_UID_LENGTH} characters`);
  if (typeof request.operation !== 'string') throw new RequestError('BAD_REQUEST_FIELD', 'request.operation must be a string');
  const resource = isObject(request.resource)
    ? { group: optionalString(request.resource.group) ?? '', version: optionalString(request.resource.version) ?? '', resource: optionalString(request.resource.resource) ?? '' }
    : undefined;
  return {
    apiVersion: body.apiVersion as ReviewVersion,
    request: {
      uid: request.uid,
      kind: readGvk(request.kind, 'kind'),
      resource,
      subResource: optionalString(request.subResource) || undefined,
      name: optionalString(request.name),
      namespace: optionalString(request.namespace),
      operation: request.operation,
      // Explicit null and absent mean the same: no object.
      object: request.object ?? undefined,
      oldObject: request.oldObject ?? undefined,
      dryRun: request.dryRun === true,
    },
  };
}

export function encodeReview(apiVersion: ReviewVersion, response: AdmissionResponse): string {
  // Both or neither: a patch without patchType (or the reverse) is a failed call.
  if ((response.patch === undefined) !== (response.patchType === undefined)) {
    throw new Error('internal: patch and patchType must be set together');
  }
  return JSON.stringify({ apiVersion, kind: 'AdmissionReview', response });
}

/**
 * In-band refusal of a request that could not be judged: code 400, reason BadRequest; or, when the
 * webhook was too busy to read it (memory budget), code 429, reason TooManyRequests.
 */
export function badRequestVerdict(err: RequestError): Verdict {
  const busy = err.httpStatus === 429;
  return {
    allowed: false,
    status: { status: 'Failure', code: busy ? 429 : 400, reason: busy ? 'TooManyRequests' : 'BadRequest', message: err.message },
    auditAnnotations: { 'bad-request': err.code },
  };
}

/** Fail closed when judging itself failed (a bug of ours): denied, code 500, no internals shown. */
export function internalErrorVerdict(): Verdict {
  return {
    allowed: false,
    status: { status: 'Failure', code: 500, reason: 'InternalError', message: 'the webhook failed while judging this object; it was not admitted (see the webhook logs)' },
    auditAnnotations: { 'internal-error': 'true' },
  };
}

export interface InvalidTarget {
  group: string;
  kind: string;
  name: string;
}

/** Longest field path and cause message in a denial (a field may carry a user's key of any length). */
const MAX_FIELD_CHARS = 256;
const MAX_CAUSE_MESSAGE_CHARS = 512;
/** Bytes of the causes (and, separately, of the message) in one denial: the answer stays < 64 KiB. */
const MAX_CAUSES_BYTES = 24 * 1024;

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

/**
 * Denial in apimachinery's NewInvalid shape: kubectl prints `The Backend "x" is invalid:` and one
 * `* field: message` line per cause, so each cause message is complete on its own. At most
 * MAX_CAUSES causes (and MAX_CAUSES_BYTES of them); then one last cause `...: and N more`, and the
 * message lists the same ones.
 */
export function invalidStatus(target: InvalidTarget, errors: readonly FieldError[]): Status {
  const causes: StatusCause[] = [];
  const rendered: string[] = [];
  let bytes = 0;
  for (const e of errors) {
    if (causes.length === MAX_CAUSES) break;
    const cause = { reason: e.type, message: clip(errorBody(e), MAX_CAUSE_MESSAGE_CHARS), field: clip(e.field, MAX_FIELD_CHARS) };
    // JSON-escaped UTF-8 size: control characters take six bytes each in the answer.
    const size = Buffer.byteLength(JSON.stringify(cause));
    if (causes.length > 0 && bytes + size > MAX_CAUSES_BYTES) break;
    bytes += size;
    causes.push(cause);
    rendered.push(`${cause.field}: ${cause.message}`);
  }
  const more = errors.length - causes.length;
  if (more > 0) {
    const last = { reason: 'FieldValueTooMany', message: `and ${more} more`, field: '...' };
    causes.push(last);
    rendered.push(`${last.field}: ${last.message}`);
  }
  const aggregate = rendered.length === 1 ? rendered[0]! : `[${rendered.join(', ')}]`;
  const qualified = clip(target.group ? `${target.kind}.${target.group}` : target.kind, MAX_FIELD_CHARS);
  return {
    status: 'Failure',
    code: 422,
    reason: 'Invalid',
    message: `${qualified} ${JSON.stringify(clip(target.name, MAX_FIELD_CHARS))} is invalid: ${aggregate}`,
    details: { name: clip(target.name, MAX_FIELD_CHARS), group: clip(target.group, MAX_FIELD_CHARS), kind: clip(target.kind, MAX_FIELD_CHARS), causes },
  };
}
