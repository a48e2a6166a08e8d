/**
 * Judges every object of an offline run through the server's own processors: each object of a
 * served kind (src/kinds/registry.ts: Backend, XBackendDestination, XBackend, BackendTLSPolicy) becomes the AdmissionRequest a `kubectl create` would send (operation CREATE)
 * and goes through validateRequest (and mutateRequest for --show-defaults); each labelled ConfigMap
 * goes through the ConfigMap webhook's reviewers. No rule lives here, so the CLI and the server
 * reach the same verdicts by construction. Other kinds are skipped (an error with --strict).
 *
 * One pipeline, one function: later checks (platform policies) add a step in judgeDocument.
 */
import { reviewConfigMapRequest, type ConfigMapReviewer } from '../admission/configmap-handler.js';
import { isServedKind } from '../admission/filters.js';
import { mutateRequest, validateRequest, type HandlerContext } from '../admission/handlers.js';
import type { AdmissionRequest, GroupVersionKind, Verdict } from '../admission/review.js';
import jsonPatch from 'fast-json-patch';
import { JudgingFailure } from '../backend/judging-failure.js';
import { API_GROUP } from '../backend/types.js';
import { all, unitOn } from '../kinds/registry.js';
import { describeUnit } from '../kinds/unit.js';
import type { InputDocument, ObjectLocation } from './documents.js';
import { isConfigMap } from './labelled-configmaps.js';
import { isReferenceGrant } from '../references/grants.js';

export type Outcome = 'valid' | 'invalid' | 'skipped';

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** One denial cause, as the server puts it in status.details.causes, plus the line it points at. */
export interface Finding {
  readonly field: string;
  readonly reason: string;
  readonly message: string;
  readonly line: number;
}

/** A warning the server would give, plus the line of the field it names (the object's line otherwise). */
export interface WarningFinding {
  readonly message: string;
  readonly line: number;
}

/** One RFC 6902 operation of a defaulting patch. */
export interface PatchOperation {
  readonly op: string;
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

export interface ObjectResult {
  readonly location: ObjectLocation;
  readonly ref: ObjectRef;
  readonly outcome: Outcome;
  readonly errors: readonly Finding[];
  readonly warnings: readonly WarningFinding[];
  /** The defaulting patch the mutating webhook would return (only with --show-defaults; [] when none). */
  readonly defaults?: readonly PatchOperation[];
}

export interface JudgeContext {
  /** The same context the server builds per request: one schema snapshot for the whole run. */
  readonly handler: HandlerContext;
  /** Reviewers of labelled ConfigMaps, as the server's ConfigMap webhook has them. */
  readonly configMapReviewers: readonly ConfigMapReviewer[];
  /** Unknown kinds are errors instead of skipped. */
  readonly strict: boolean;
  readonly showDefaults: boolean;
  /** Objects as they are now (`--against`), by identityOf: a match is judged as an UPDATE of it. */
  readonly current?: ReadonlyMap<string, Record<string, unknown>>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function gvkOf(object: Record<string, unknown>): GroupVersionKind {
  const apiVersion = str(object.apiVersion) ?? '';
  const slash = apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : apiVersion.slice(0, slash),
    version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
    kind: str(object.kind) ?? '',
  };
}

export function refOf(object: Record<string, unknown>): ObjectRef {
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const namespace = str(meta.namespace);
  return {
    apiVersion: str(object.apiVersion) ?? '',
    kind: str(object.kind) ?? '',
    ...(namespace ? { namespace } : {}),
    name: str(meta.name) ?? str(meta.generateName) ?? '',
  };
}

/**
 * Which live object an input object would replace: group, kind, namespace and name (a missing
 * namespace is `default`, as `kubectl apply` without -n; cluster-scoped kinds are not ours).
 * Undefined for an object without a name (generateName always creates).
 */
export function identityOf(object: Record<string, unknown>): string | undefined {
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const name = str(meta.name);
  if (!name) return undefined;
  const { group, kind } = gvkOf(object);
  return `${group}\u0000${kind}\u0000${str(meta.namespace) || 'default'}\u0000${name}`;
}

/**
 * The request kube-apiserver would send for `kubectl apply` of this object (as a dry run): a CREATE,
 * or an UPDATE of `oldObject` when it exists now (then ratcheting applies, as in the cluster).
 */
function admissionRequest(doc: InputDocument, gvk: GroupVersionKind, ref: ObjectRef, oldObject?: Record<string, unknown>): AdmissionRequest {
  return {
    uid: `offline:${doc.file}:${doc.document}${doc.item === undefined ? '' : `.${doc.item}`}`,
    kind: gvk,
    name: ref.name,
    ...(ref.namespace ? { namespace: ref.namespace } : {}),
    operation: oldObject ? 'UPDATE' : 'CREATE',
    object: doc.object,
    ...(oldObject ? { oldObject } : {}),
    dryRun: true,
  };
}

function findingsOf(verdict: Verdict, doc: InputDocument): Finding[] {
  if (verdict.allowed) return [];
  const causes = verdict.status?.details?.causes ?? [];
  if (causes.length === 0) {
    // A refusal without field causes (a bad request): its message is the whole story.
    return [{ field: '', reason: verdict.status?.reason ?? 'Denied', message: verdict.status?.message ?? 'denied', line: doc.line }];
  }
  return causes.map((c) => ({ field: c.field, reason: c.reason, message: c.message, line: doc.lineOf(c.field) }));
}

/** Warnings mostly open with the field they are about (`spec.destination.ports[0].tls.insecureSkipVerify: ...`). */
const LEADING_FIELD = /^((?:metadata|spec|data)[\w.\[\]/~-]*): /;

function warningsOf(verdict: Verdict, doc: InputDocument): WarningFinding[] {
  return (verdict.warnings ?? []).map((message) => {
    const field = LEADING_FIELD.exec(message)?.[1];
    return { message, line: field === undefined ? doc.line : doc.lineOf(field) };
  });
}

function decodePatch(verdict: Verdict): PatchOperation[] {
  if (verdict.patch === undefined) return [];
  return JSON.parse(Buffer.from(verdict.patch, 'base64').toString('utf8')) as PatchOperation[];
}

function fromVerdict(doc: InputDocument, ref: ObjectRef, verdict: Verdict, defaults?: PatchOperation[]): ObjectResult {
  return {
    location: doc,
    ref,
    outcome: verdict.allowed ? 'valid' : 'invalid',
    errors: findingsOf(verdict, doc),
    warnings: warningsOf(verdict, doc),
    ...(defaults === undefined ? {} : { defaults }),
  };
}

function skipped(doc: InputDocument, ref: ObjectRef, gvk: GroupVersionKind, ctx: JudgeContext): ObjectResult {
  const what = `${ref.apiVersion || '<no apiVersion>'} ${ref.kind || '<no kind>'}`;
  // ReferenceGrants are read as input (they allow cross-namespace references), never refused as unjudged.
  if (ctx.strict && !isReferenceGrant(doc.object)) {
    const field = ref.kind && !ref.apiVersion ? 'apiVersion' : 'kind';
    return {
      location: doc,
      ref,
      outcome: 'invalid',
      errors: [{ field, reason: 'NotJudged', message: `${what} is not a kind backend-webhook judges (--strict refuses unknown kinds)`, line: doc.lineOf(field) }],
      warnings: [],
    };
  }
  // Our group with a kind or version we do not serve, or a served kind of another version, is most
  // likely a typo that would go unjudged.
  const near = all().filter((u) => u.group === gvk.group && (gvk.group === API_GROUP || u.kinds.some((k) => k.kind === gvk.kind)));
  const warnings = near.length > 0 ? [{ message: `not judged: ${what} is not served; judged are ${near.map(describeUnit).join('; ')}`, line: doc.line }] : [];
  return { location: doc, ref, outcome: 'skipped', errors: [], warnings };
}

export function judgeDocument(doc: InputDocument, ctx: JudgeContext): ObjectResult {
  try {
    return judgeOne(doc, ctx);
  } catch (err) {
    if (!(err instanceof JudgingFailure)) throw err;
    // As the webhook: our own failure fails closed (the object is not admitted), and says so.
    const message = `the webhook failed while judging this object (${err.message}); it would not be admitted`;
    return { location: doc, ref: refOf(doc.object), outcome: 'invalid', errors: [{ field: '', reason: 'InternalError', message, line: doc.line }], warnings: [] };
  }
}

function judgeOne(doc: InputDocument, ctx: JudgeContext): ObjectResult {
  const gvk = gvkOf(doc.object);
  const ref = refOf(doc.object);
  if (isServedKind(gvk)) {
    const identity = ctx.current ? identityOf(doc.object) : undefined;
    const req = admissionRequest(doc, gvk, ref, identity === undefined ? undefined : ctx.current?.get(identity));
    const withPolicies = (ctx.handler.policies?.policies.size ?? 0) > 0;
    // Kinds the mutating webhook does not serve (the BackendTLSPolicy guard) get no patch.
    const mutated = unitOn('mutate', gvk) !== undefined;
    const patch = ctx.showDefaults || withPolicies ? (mutated ? decodePatch(mutateRequest(req, ctx.handler)) : []) : undefined;
    // With platform policies, judge what the API server judges: the object after the mutating
    // webhook, since policy defaults (a TLS mode, a required extension) can satisfy policy overrides.
    const judged = withPolicies && patch && patch.length > 0 ? { ...req, object: jsonPatch.applyPatch(structuredClone(doc.object), patch as jsonPatch.Operation[], false, false).newDocument } : req;
    const verdict = validateRequest(judged, ctx.handler);
    return fromVerdict(doc, ref, verdict, ctx.showDefaults ? patch : undefined);
  }
  if (isConfigMap(doc.object)) {
    const labels = isRecord(doc.object.metadata) && isRecord(doc.object.metadata.labels) ? doc.object.metadata.labels : {};
    if (ctx.configMapReviewers.some((r) => labels[r.label] === 'true')) {
      // The input's ConfigMaps are trusted: the user handed them over with the objects.
      const verdict = reviewConfigMapRequest(admissionRequest(doc, gvk, ref), { reviewers: ctx.configMapReviewers, isTrustedNamespace: () => true });
      return fromVerdict(doc, ref, verdict);
    }
  }
  return skipped(doc, ref, gvk, ctx);
}

export function judgeDocuments(docs: readonly InputDocument[], ctx: JudgeContext): ObjectResult[] {
  return docs.map((doc) => judgeDocument(doc, ctx));
}
