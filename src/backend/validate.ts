/**
 * Validation of a Backend / XBackendDestination: the JSON Schema for structure, the rules for
 * everything else, ratcheting on UPDATE. A pure function shared by the webhook and the offline CLI.
 */
import { formatFieldError, invalid, sortFieldErrors, type FieldError } from './field-errors.js';
import { Findings, type Issue } from './issues.js';
import { JudgingFailure } from './judging-failure.js';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from './options.js';
import { isPlainObject, printable, unchangedAt } from './paths.js';
import { checkDestination } from './rules/destination.js';
import { checkExtensions } from './rules/extensions.js';
import { prototypeKeyIssues, withPrototypeKeyIssues } from './prototype-keys.js';
import { schemaIssues } from './schema.js';
import type { SchemaLookup } from '../schemas/registry.js';

export type BackendOperation = 'CREATE' | 'UPDATE';

export interface BackendValidationInput {
  object: unknown;
  oldObject?: unknown;
  /** Admission operation; ratcheting applies to UPDATE only. */
  operation: BackendOperation | (string & {});
}

export interface BackendValidationResult {
  /** Problems that deny the request, sorted by field path. */
  errors: FieldError[];
  /** What to tell the user anyway: the spec's warnings, then each ratcheted problem. */
  warnings: string[];
  /** Problems in values unchanged since oldObject: reported as warnings, not denials. */
  ratcheted: FieldError[];
}

/** Longest warning: kubectl users read them on one line (the apiserver's limit is higher). */
export const MAX_WARNING_LENGTH = 119;

/** One line, no control characters, under 120 characters. */
export function boundedWarning(text: string): string {
  const clean = printable(text);
  return clean.length <= MAX_WARNING_LENGTH ? clean : `${clean.slice(0, MAX_WARNING_LENGTH - 3)}...`;
}

export const ratchetWarning = (e: FieldError): string => boundedWarning(`unchanged, so allowed: ${formatFieldError(e)}`);

/** Options are one object for the life of a server: resolve each once, not per request. */
const resolved = new WeakMap<object, ValidationOptions>();

function resolveOptions(options: Partial<ValidationOptions> | undefined): ValidationOptions {
  if (!isPlainObject(options)) return resolveOptionsOnce(undefined);
  let result = resolved.get(options);
  if (!result) {
    result = resolveOptionsOnce(options);
    resolved.set(options, result);
  }
  return result;
}

function resolveOptionsOnce(options: Partial<ValidationOptions> | undefined): ValidationOptions {
  const o = isPlainObject(options) ? options : {};
  const d = DEFAULT_VALIDATION_OPTIONS;
  const strings = (v: unknown, fallback: string[]): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : fallback);
  return {
    clusterDomain: typeof o.clusterDomain === 'string' ? o.clusterDomain : d.clusterDomain,
    // Same array identity when clean, so compiled ranges stay cached.
    extraDeniedCidrs: Array.isArray(o.extraDeniedCidrs) && o.extraDeniedCidrs.every((x) => typeof x === 'string') ? o.extraDeniedCidrs : strings(o.extraDeniedCidrs, d.extraDeniedCidrs),
    mcpVersions: strings(o.mcpVersions, d.mcpVersions),
    unknownExtensionPolicy: o.unknownExtensionPolicy === 'warn' ? 'warn' : 'deny',
  };
}

const errorKey = (e: FieldError): string => {
  let value: string;
  try {
    value = JSON.stringify(e.badValue) ?? '';
  } catch {
    value = '';
  }
  return `${e.type}\u0000${e.field}\u0000${e.detail ?? ''}\u0000${value}`;
};

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

function run(input: BackendValidationInput, schemas: SchemaLookup, options: ValidationOptions): BackendValidationResult {
  const object = input.object;
  const findings = new Findings();
  if (isPlainObject(object)) {
    const ctx = { findings, options, schemas };
    const spec = object['spec'];
    if (isPlainObject(spec)) {
      checkDestination(ctx, spec['destination'], ['spec', 'destination']);
      checkExtensions(ctx, spec['extensions'], ['spec', 'extensions']);
    }
  }
  const issues = withPrototypeKeyIssues(prototypeKeyIssues(object), merge(schemaIssues(object), findings.issues));

  const ratchet = input.operation === 'UPDATE' && isPlainObject(input.oldObject);
  const errors: FieldError[] = [];
  const ratcheted: FieldError[] = [];
  for (const issue of issues) {
    const keep = ratchet && issue.scope.length > 0 && issue.scope.every((path) => unchangedAt(object, input.oldObject, path));
    (keep ? ratcheted : errors).push(issue.error);
  }
  if (issues.length === 0 && findings.warnings.length === 0) return { errors, warnings: [], ratcheted };
  const sortedRatcheted = sortFieldErrors(ratcheted);
  const warnings = [...new Set([...findings.warnings.map(boundedWarning), ...sortedRatcheted.map(ratchetWarning)])];
  return { errors: sortFieldErrors(errors), warnings, ratcheted: sortedRatcheted };
}

/**
 * Judges `input.object` (any value at all). Errors deny; warnings are said; on UPDATE, problems in
 * values unchanged from `input.oldObject` are moved to `ratcheted`. The only throw is a
 * JudgingFailure (a failure of ours, e.g. a schema registry that threw), for the caller to fail closed on.
 */
export function validateBackend(input: BackendValidationInput, schemas: SchemaLookup, options: ValidationOptions): BackendValidationResult {
  try {
    const safeInput: BackendValidationInput = isPlainObject(input) ? input : { object: undefined, operation: 'CREATE' };
    return run(safeInput, schemas, resolveOptions(options));
  } catch (err) {
    // Our own failure (a schema registry that threw): the caller fails closed, counts and logs it.
    if (err instanceof JudgingFailure) throw err;
    // Fail closed: an object we could not judge is not admitted.
    return { errors: [invalid('spec', undefined, 'could not be validated (internal error); the object may be too deeply nested')], warnings: [], ratcheted: [] };
  }
}
