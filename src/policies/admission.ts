/**
 * The Backend verdicts with platform policies folded in, shared by the admission handlers and the
 * offline CLI: validation = built-in rules + policy overrides; defaulting = policy and built-in
 * defaults in one minimal patch, kept only if the result still passes validation.
 */
import jsonPatch from 'fast-json-patch';
import { defaultBackendWith, type DefaultingResult } from '../backend/defaults.js';
import { errorBody, sortFieldErrors, type FieldError } from '../backend/field-errors.js';
import { JudgingFailure } from '../backend/judging-failure.js';
import type { ValidationOptions } from '../backend/options.js';
import type { BackendValidationInput, BackendValidationResult } from '../backend/validate.js';
import { BACKEND_UNIT } from '../kinds/backend/index.js';
import type { KindUnit } from '../kinds/unit.js';
import type { SchemaLookup } from '../schemas/registry.js';
import { policyDefaulting } from './defaults.js';
import { applicablePolicies, evaluateOverrides, type PolicyContext, type PolicyDecision } from './evaluate.js';

export interface PolicyValidationResult extends BackendValidationResult {
  /** Policy decisions that fired (deny / warn), for metrics. */
  decisions: PolicyDecision[];
  /** How many of the errors came from policies. */
  policyErrors: number;
}

/** The kind's validation plus the policy overrides; `namespace` is the object's. */
export function validateWithPolicies(
  input: BackendValidationInput & { namespace?: string },
  schemas: SchemaLookup,
  options: ValidationOptions,
  policies: Pick<PolicyContext, 'policies' | 'namespaces'> | undefined,
  unit: KindUnit = BACKEND_UNIT,
): PolicyValidationResult {
  const base = unit.validate(input, schemas, options);
  if (!policies || policies.policies.size === 0 || !unit.policies) return { errors: base.errors, warnings: base.warnings, ratcheted: base.ratcheted, decisions: [], policyErrors: 0 };
  let verdict;
  try {
    verdict = evaluateOverrides({ ...input, unit }, policies);
  } catch {
    // Fail closed, as validateBackend does: a Backend we could not judge is not admitted.
    verdict = { errors: [{ type: 'FieldValueInvalid', field: 'spec', detail: 'could not be checked against platform policies (internal error)' } as FieldError], warnings: [], ratcheted: [], decisions: [] };
  }
  return {
    errors: sortFieldErrors([...base.errors, ...verdict.errors]),
    warnings: [...new Set([...base.warnings, ...verdict.warnings])],
    ratcheted: sortFieldErrors([...base.ratcheted, ...verdict.ratcheted]),
    decisions: verdict.decisions,
    policyErrors: verdict.errors.length,
  };
}

export interface PolicyDefaultingResult extends DefaultingResult {
  decisions: PolicyDecision[];
  /** Policy defaults were computed but dropped, because the result would not pass validation. */
  droppedPolicyDefaults: boolean;
}

const errorKeys = (errors: readonly FieldError[]): Set<string> => new Set(errors.map((e) => `${e.field}\u0000${errorBody(e)}`));

function patched(object: unknown, patch: DefaultingResult['patch']): unknown {
  return jsonPatch.applyPatch(JSON.parse(JSON.stringify(object)) as object, patch, false, false).newDocument;
}

/**
 * The defaulting patch with policy defaults. If the policy-defaulted object has a validation error
 * (built-in or policy) that the built-in-only result does not, the policy defaults are dropped:
 * defaulting must never make a Backend invalid.
 */
export function defaultWithPolicies(
  input: { object: unknown; oldObject?: unknown; operation: string; namespace?: string },
  schemas: SchemaLookup,
  options: ValidationOptions,
  policies: Pick<PolicyContext, 'policies' | 'namespaces'> | undefined,
  unit: KindUnit = BACKEND_UNIT,
): PolicyDefaultingResult {
  if (!unit.defaults) return { patch: [], defaulted: [], decisions: [], droppedPolicyDefaults: false };
  const builtIn = unit.defaults.patch(input.object);
  // Policy defaults are written for the Backend's shape: kinds that say so get them.
  if (!policies || policies.policies.size === 0 || unit.policies?.defaults !== true) return { patch: builtIn.patch, defaulted: builtIn.defaulted, decisions: [], droppedPolicyDefaults: false };
  const applicable = applicablePolicies(input.object, input.namespace, policies.policies, policies.namespaces, unit);
  if (applicable.length === 0) return { patch: builtIn.patch, defaulted: builtIn.defaulted, decisions: [], droppedPolicyDefaults: false };
  const steps = policyDefaulting(applicable);
  const withPolicies = defaultBackendWith(input.object, (copy) => steps.apply(copy));
  const decisions = steps.decisions;
  if (decisions.length === 0) return { ...withPolicies, decisions: [], droppedPolicyDefaults: false };
  try {
    const judge = (patch: DefaultingResult['patch']): FieldError[] =>
      validateWithPolicies({ ...input, object: patched(input.object, patch) }, schemas, options, policies, unit).errors;
    const before = errorKeys(judge(builtIn.patch));
    const introduced = [...errorKeys(judge(withPolicies.patch))].some((k) => !before.has(k));
    if (introduced) return { ...builtIn, decisions: [], droppedPolicyDefaults: true };
  } catch (err) {
    if (err instanceof JudgingFailure) throw err; // ours: fail closed, counted and logged by the caller
    return { ...builtIn, decisions: [], droppedPolicyDefaults: true };
  }
  return { ...withPolicies, decisions, droppedPolicyDefaults: false };
}
