/**
 * Validation of a Backend / XBackendDestination: the JSON Schema for structure, the rules for
 * everything else, ratcheting on UPDATE. A pure function shared by the webhook and the offline CLI.
 */
import type { FieldError } from './field-errors.js';
import { validateWith, type KindChecks } from '../kinds/pipeline.js';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from './options.js';
import { isPlainObject } from './paths.js';
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

export { boundedWarning, MAX_WARNING_LENGTH, ratchetWarning } from '../kinds/pipeline.js';

/** Options are one object for the life of a server: resolve each once, not per request. */
const resolved = new WeakMap<object, ValidationOptions>();

export function resolveOptions(options: Partial<ValidationOptions> | undefined): ValidationOptions {
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
    // Same array identity when clean, so normalised suffixes stay cached.
    internalDomains: Array.isArray(o.internalDomains) && o.internalDomains.every((x) => typeof x === 'string') ? o.internalDomains : strings(o.internalDomains, d.internalDomains ?? []),
    // Same array identity when clean, so compiled ranges stay cached.
    extraDeniedCidrs: Array.isArray(o.extraDeniedCidrs) && o.extraDeniedCidrs.every((x) => typeof x === 'string') ? o.extraDeniedCidrs : strings(o.extraDeniedCidrs, d.extraDeniedCidrs),
    mcpVersions: strings(o.mcpVersions, d.mcpVersions),
    unknownExtensionPolicy: o.unknownExtensionPolicy === 'warn' ? 'warn' : 'deny',
    crossNamespaceRefs: o.crossNamespaceRefs === 'deny' || o.crossNamespaceRefs === 'allow' ? o.crossNamespaceRefs : 'reference-grant',
    ...(o.referenceGrants && typeof o.referenceGrants.allows === 'function' ? { referenceGrants: o.referenceGrants } : {}),
  };
}

function namespaceOf(object: Record<string, unknown>, given: unknown): string | undefined {
  if (typeof given === 'string' && given !== '') return given;
  const meta = object['metadata'];
  const ns = isPlainObject(meta) ? meta['namespace'] : undefined;
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

/** Who holds the object's references (for the cross-namespace rule). */
function referrerOf(object: Record<string, unknown>, namespace: string | undefined): ReferenceFrom {
  const meta = object['metadata'];
  const own = isPlainObject(meta) && typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : undefined;
  const kind = typeof object['kind'] === 'string' && object['kind'] !== '' ? object['kind'] : 'Backend';
  // Offline, a manifest without a namespace lands in `default`, as kubectl apply puts it.
  return { group: API_GROUP, kind, namespace: namespace || own || 'default' };
}

/** The Backend's checks for the shared pipeline (src/kinds/pipeline.ts). */
const BACKEND_CHECKS: KindChecks = {
  structure: schemaIssues,
  rules(findings, object, input, schemas, options) {
    const spec = object['spec'];
    if (isPlainObject(spec)) {
      const ctx = { findings, options, schemas, namespace: namespaceOf(object, input.namespace), referrer: referrerOf(object, input.namespace) };
      checkDestination(ctx, spec['destination'], ['spec', 'destination']);
      checkExtensions(ctx, spec['extensions'], ['spec', 'extensions']);
    }
  },
};

/**
 * Judges `input.object` (any value at all: it never throws). Errors deny; warnings are said; on
 * UPDATE, problems in values unchanged from `input.oldObject` are moved to `ratcheted`.
 */
export function validateBackend(input: BackendValidationInput, schemas: SchemaLookup, options: ValidationOptions): BackendValidationResult {
  return validateWith(input, BACKEND_CHECKS, schemas, resolveOptions(options));
}
