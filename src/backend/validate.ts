/**
 * Validation of a Backend / XBackendDestination: the JSON Schema for structure, the rules for
 * everything else, ratcheting on UPDATE. A pure function shared by the webhook and the offline CLI.
 */
import { errorBody, formatFieldError, invalid, sortFieldErrors, type FieldError } from './field-errors.js';
import { Findings, type Issue } from './issues.js';
import { MAX_COLLECTED_ISSUES } from './limits.js';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from './options.js';
import { isPlainObject, printable, unchangedAt } from './paths.js';
import { checkDestination } from './rules/destination.js';
import { checkExtensions } from './rules/extensions.js';
import { schemaIssues } from './schema.js';
import type { SchemaLookup } from '../schemas/registry.js';
import type { ReferenceFrom } from '../references/grants.js';
import { API_GROUP } from './types.js';

export type BackendOperation = 'CREATE' | 'UPDATE';

export interface BackendValidationInput {
  object: unknown;
  oldObject?: unknown;
  /** Admission operation; ratcheting applies to UPDATE only. */
  operation: BackendOperation | (string & {});
  /** The object's namespace (the request's); absent: metadata.namespace, else `default`. */
  namespace?: string;
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
    crossNamespaceRefs: o.crossNamespaceRefs === 'deny' || o.crossNamespaceRefs === 'allow' ? o.crossNamespaceRefs : 'reference-grant',
    ...(o.referenceGrants && typeof o.referenceGrants.allows === 'function' ? { referenceGrants: o.referenceGrants } : {}),
  };
}

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

/** Who holds the object's references (for the cross-namespace rule). */
function referrerOf(object: Record<string, unknown>, namespace: string | undefined): ReferenceFrom {
  const meta = object['metadata'];
  const own = isPlainObject(meta) && typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : undefined;
  const kind = typeof object['kind'] === 'string' && object['kind'] !== '' ? object['kind'] : 'Backend';
  // Offline, a manifest without a namespace lands in `default`, as kubectl apply puts it.
  return { group: API_GROUP, kind, namespace: namespace || own || 'default' };
}

function run(input: BackendValidationInput, schemas: SchemaLookup, options: ValidationOptions): BackendValidationResult {
  const object = input.object;
  const findings = new Findings();
  if (isPlainObject(object)) {
    const ctx = { findings, options, schemas, referrer: referrerOf(object, input.namespace) };
    const spec = object['spec'];
    if (isPlainObject(spec)) {
      checkDestination(ctx, spec['destination'], ['spec', 'destination']);
      checkExtensions(ctx, spec['extensions'], ['spec', 'extensions']);
    }
  }
  const issues = merge(schemaIssues(object), findings.issues);

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

/**
 * Judges `input.object` (any value at all: it never throws). Errors deny; warnings are said; on
 * UPDATE, problems in values unchanged from `input.oldObject` are moved to `ratcheted`.
 */
export function validateBackend(input: BackendValidationInput, schemas: SchemaLookup, options: ValidationOptions): BackendValidationResult {
  try {
    const safeInput: BackendValidationInput = isPlainObject(input) ? input : { object: undefined, operation: 'CREATE' };
    return run(safeInput, schemas, resolveOptions(options));
  } catch {
    // Fail closed: an object we could not judge is not admitted.
    return { errors: [invalid('spec', undefined, 'could not be validated (internal error); the object may be too deeply nested')], warnings: [], ratcheted: [] };
  }
}
