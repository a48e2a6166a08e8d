/**
 * The validating and mutating processors: pure functions of a decoded request and a context
 * (schema snapshot + options). No I/O, so the server and the offline CLI share them verbatim.
 */
import type { ValidationOptions } from '../backend/options.js';
import { defaultWithPolicies, validateWithPolicies } from '../policies/admission.js';
import { backendNamespace, type PolicyContext } from '../policies/evaluate.js';
import type { SchemaLookup } from '../schemas/registry.js';
import { RequestError } from './errors.js';
import { describeKind, unsupportedRequest } from './filters.js';
import { describeServed, judges, unitOn } from '../kinds/registry.js';
import type { Endpoint, KindUnit } from '../kinds/unit.js';
import { badRequestVerdict, invalidStatus, type AdmissionRequest, type Verdict } from './review.js';
import { sanitizeWarnings } from './warnings.js';

export interface HandlerContext {
  schemas: SchemaLookup;
  options: ValidationOptions;
  /** Platform policies (docs/policies.md); absent: none apply. */
  policies?: PolicyContext;
}

/** Our CRDs' subresources (manifests/crd-*.yaml): status, never judged. */
const SUBRESOURCES = ['status'];

const ALLOWED: Verdict = Object.freeze({ allowed: true }) as Verdict;

function objectName(req: AdmissionRequest): string {
  if (req.name) return req.name;
  const meta = (req.object as { metadata?: { name?: unknown; generateName?: unknown } } | undefined)?.metadata;
  if (typeof meta?.name === 'string') return meta.name;
  return typeof meta?.generateName === 'string' ? meta.generateName : '';
}

/**
 * Shared gate: a kind the endpoint does not serve (or an operation or subresource no API server
 * sends for it) means the webhook configuration is wrong; say so.
 */
function unitOrRefusal(req: AdmissionRequest, endpoint: Endpoint): KindUnit | Verdict {
  const unit = unitOn(endpoint, req.kind);
  if (unit) {
    const unsupported = unsupportedRequest(req, SUBRESOURCES);
    return unsupported ? badRequestVerdict(unsupported) : unit;
  }
  return badRequestVerdict(
    new RequestError('UNSUPPORTED_KIND', `/${endpoint} serves ${describeServed(endpoint)}, not ${describeKind(req.kind)}; check the webhook configuration's rules`),
  );
}

/** Only the unit's operations on the main resource are judged; status belongs to controllers. */
const isJudged = (req: AdmissionRequest, unit: KindUnit, endpoint: Endpoint): boolean => req.subResource === undefined && judges(unit, endpoint, req.operation);

const isUnit = (v: KindUnit | Verdict): v is KindUnit => typeof (v as KindUnit).validate === 'function';

function missingObject(req: AdmissionRequest): Verdict {
  return badRequestVerdict(new RequestError('MISSING_OBJECT', `request.object is required for ${req.operation}`));
}

export function validateRequest(req: AdmissionRequest, ctx: HandlerContext): Verdict {
  const unit = unitOrRefusal(req, 'validate');
  if (!isUnit(unit)) return unit;
  if (!isJudged(req, unit, 'validate')) return ALLOWED; // DELETE, CONNECT, status: nothing of ours to judge
  if (req.object === undefined) return missingObject(req);

  const namespace = backendNamespace(req.object, req.namespace);
  const result = validateWithPolicies({ object: req.object, oldObject: req.oldObject, operation: req.operation, namespace }, ctx.schemas, ctx.options, ctx.policies, unit);
  if (result.decisions.length > 0) ctx.policies?.record?.(result.decisions);
  const warnings = sanitizeWarnings(result.warnings);
  const auditAnnotations: Record<string, string> = {
    'validation-result': result.errors.length > 0 ? 'denied' : 'allowed',
    'validation-errors': String(result.errors.length),
    'validation-warnings': String(warnings.length),
  };
  if (result.ratcheted.length > 0) auditAnnotations['ratcheted-errors'] = String(result.ratcheted.length);
  if (result.policyErrors > 0) auditAnnotations['policy-errors'] = String(result.policyErrors);

  const verdict: Verdict = { allowed: result.errors.length === 0, auditAnnotations };
  if (warnings.length > 0) verdict.warnings = warnings;
  if (result.errors.length > 0) {
    verdict.status = invalidStatus({ group: req.kind.group, kind: req.kind.kind, name: objectName(req) }, result.errors);
  }
  return verdict;
}

export function mutateRequest(req: AdmissionRequest, ctx: HandlerContext): Verdict {
  const unit = unitOrRefusal(req, 'mutate');
  if (!isUnit(unit)) return unit;
  if (!isJudged(req, unit, 'mutate')) return ALLOWED;
  if (req.object === undefined) return missingObject(req);

  const namespace = backendNamespace(req.object, req.namespace);
  const input = { object: req.object, oldObject: req.oldObject, operation: req.operation, namespace };
  const { patch, defaulted, decisions, droppedPolicyDefaults } = defaultWithPolicies(input, ctx.schemas, ctx.options, ctx.policies, unit);
  if (decisions.length > 0) ctx.policies?.record?.(decisions);
  const auditAnnotations: Record<string, string> = { 'defaulted-count': String(defaulted.length) };
  if (droppedPolicyDefaults) auditAnnotations['policy-defaults-dropped'] = 'true';
  if (patch.length === 0) return { allowed: true, auditAnnotations };
  auditAnnotations['defaulted-fields'] = defaulted.join(',');
  return {
    allowed: true,
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    patchType: 'JSONPatch',
    auditAnnotations,
  };
}
