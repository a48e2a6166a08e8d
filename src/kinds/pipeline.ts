/**
 * The validation pipeline every served kind runs: structure (its JSON Schema) and cross-field rules,
 * merged to one verdict per field, then ratcheted on UPDATE (a problem in values unchanged from
 * oldObject is said as a warning, not a denial). Pure; never throws (fails closed).
 */
import { errorBody, formatFieldError, invalid, sortFieldErrors, type FieldError } from '../backend/field-errors.js';
import { MAX_COLLECTED_ISSUES } from '../backend/limits.js';
import { Findings, type Issue } from '../backend/issues.js';
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

/** The rendered body (value printed bounded), not JSON.stringify of the value: that may be megabytes. */
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

function run(input: KindValidationInput, checks: KindChecks, schemas: SchemaLookup, options: ValidationOptions): KindValidationResult {
  const object = input.object;
  const findings = new Findings();
  if (isPlainObject(object)) checks.rules(findings, object, input, schemas, options);
  const issues = merge(checks.structure(object), findings.issues);

  const ratchet = input.operation === 'UPDATE' && isPlainObject(input.oldObject);
  const errors: FieldError[] = [];
  const ratcheted: FieldError[] = [];
  for (const issue of issues) {
    const keep = ratchet && issue.scope.length > 0 && issue.scope.every((path) => unchangedAt(object, input.oldObject, path));
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

/** Judges `input.object` (any value at all: it never throws) with one kind's checks (a constant: no per-call closures). */
export function validateWith(input: KindValidationInput, checks: KindChecks, schemas: SchemaLookup, options: ValidationOptions): KindValidationResult {
  try {
    const safeInput: KindValidationInput = isPlainObject(input) ? input : { object: undefined, operation: 'CREATE' };
    return run(safeInput, checks, schemas, options);
  } catch {
    // Fail closed: an object we could not judge is not admitted.
    return { errors: [invalid('spec', undefined, 'could not be validated (internal error); the object may be too deeply nested')], warnings: [], ratcheted: [] };
  }
}
