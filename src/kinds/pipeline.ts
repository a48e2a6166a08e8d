/**
 * The validation pipeline every served kind runs: structure (its JSON Schema) and cross-field rules,
 * merged to one verdict per field, then ratcheted on UPDATE (a problem in values unchanged from
 * oldObject is said as a warning, not a denial). Pure; never throws (fails closed).
 */
import { errorBody, formatFieldError, invalid, sortFieldErrors, type FieldError } from '../backend/field-errors.js';
import { MAX_COLLECTED_ISSUES } from '../backend/limits.js';
import { Findings, type Issue } from '../backend/issues.js';
import { JudgingFailure } from '../backend/judging-failure.js';
import { prototypeKeyIssues, withPrototypeKeyIssues } from '../backend/prototype-keys.js';
import { isPlainObject, printable, unchangedAt } from '../backend/paths.js';
import type { ValidationOptions } from '../backend/options.js';
import type { SchemaLookup } from '../schemas/registry.js';
import type { KindValidationInput, KindValidationResult } from './unit.js';

/** Longest warning: kubectl users read them on one line (the apiserver's limit is higher). */
export const MAX_WARNING_LENGTH = 119;

/** One line, no control characters, under 120 characters. */
export function boundedWarning(text: string): string {
  const clean = printable(text);
  return clean.length <= MAX_WARNING_LENGTH ? clean : `${clean.slice(0, MAX_WARNING_LENGTH - 3)}...`;
}

export const ratchetWarning = (e: FieldError): string => boundedWarning(`unchanged, so allowed: ${formatFieldError(e)}`);

/**
 * A problem's identity: the rendered body (value printed bounded, keys sorted), not JSON.stringify of
 * the value, which may be megabytes and depends on key order.
 */
const errorKey = (e: FieldError): string => `${e.type}\u0000${e.field}\u0000${errorBody(e)}`;

/** Schema findings win over a rule's finding at the same field: one verdict per field. */
function merge(schema: readonly Issue[], rules: readonly Issue[]): readonly Issue[] {
  if (rules.length === 0 && schema.length <= 1) return schema;
  const judged = new Set(schema.map((i) => i.error.field));
  const seen = new Set<string>();
  const out: Issue[] = [];
  for (const issue of [...schema, ...rules.filter((i) => !judged.has(i.error.field))]) {
    const key = errorKey(issue.error);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}

export interface KindChecks {
  /** Structural problems (the compiled JSON Schema); none when the kind has no schema. */
  structure(object: unknown): Issue[];
  /** Cross-field rules: report into `findings`. Only called for a plain object. */
  rules(findings: Findings, object: Record<string, unknown>, input: KindValidationInput, schemas: SchemaLookup, options: ValidationOptions): void;
}

/** Everything the structure check and the rules find in `object`. */
function judge(object: unknown, input: KindValidationInput, checks: KindChecks, schemas: SchemaLookup, options: ValidationOptions): { issues: readonly Issue[]; findings: Findings } {
  const findings = new Findings();
  if (isPlainObject(object)) checks.rules(findings, object, input, schemas, options);
  // Prototype-pollution keys where we judge (never in metadata or status): one Forbidden each.
  return { issues: withPrototypeKeyIssues(prototypeKeyIssues(object), merge(checks.structure(object), findings.issues)), findings };
}

function run(input: KindValidationInput, checks: KindChecks, schemas: SchemaLookup, options: ValidationOptions): KindValidationResult {
  const object = input.object;
  const { issues, findings } = judge(object, input, checks, schemas, options);

  const ratchet = input.operation === 'UPDATE' && isPlainObject(input.oldObject);
  const errors: FieldError[] = [];
  const ratcheted: FieldError[] = [];
  // The old object's problems, worked out only when some problem sits in unchanged values.
  let before: Set<string> | undefined;
  for (const issue of issues) {
    let keep = ratchet && issue.scope.length > 0 && issue.scope.every((path) => unchangedAt(object, input.oldObject, path));
    if (keep) {
      // "Unchanged" needs every value the verdict depends on to be unchanged, and some (a type
      // that now points at a member, a TLS mode that now switches a rule on) are not in the scope.
      // The problem must also have been there before: then nothing it depends on changed.
      before ??= new Set(judge(input.oldObject, { ...input, object: input.oldObject }, checks, schemas, options).issues.map((i) => errorKey(i.error)));
      keep = before.has(errorKey(issue.error));
    }
    (keep ? ratcheted : errors).push(issue.error);
  }
  // Problems past the collection bound were not looked at for ratcheting: never allow on that basis.
  if (findings.dropped > 0 && errors.length === 0) {
    errors.push(invalid('spec', undefined, `has more than ${MAX_COLLECTED_ISSUES} problems; fix the ones reported first`));
  }
  if (issues.length === 0 && findings.warnings.length === 0) return { errors, warnings: [], ratcheted };
  const sortedRatcheted = sortFieldErrors(ratcheted);
  const warnings = [...new Set([...findings.warnings.map(boundedWarning), ...sortedRatcheted.map(ratchetWarning)])];
  return { errors: sortFieldErrors(errors), warnings, ratcheted: sortedRatcheted };
}

/** Judges `input.object` (any value at all; the only throw is a JudgingFailure, ours) with one kind's checks (a constant: no per-call closures). */
export function validateWith(input: KindValidationInput, checks: KindChecks, schemas: SchemaLookup, options: ValidationOptions): KindValidationResult {
  try {
    const safeInput: KindValidationInput = isPlainObject(input) ? input : { object: undefined, operation: 'CREATE' };
    return run(safeInput, checks, schemas, options);
  } catch (err) {
    // Our own failure (a schema registry that threw): the caller fails closed, counts and logs it.
    if (err instanceof JudgingFailure) throw err;
    // Fail closed: an object we could not judge is not admitted.
    return { errors: [invalid('spec', undefined, 'could not be validated (internal error); the object may be too deeply nested')], warnings: [], ratcheted: [] };
  }
}
