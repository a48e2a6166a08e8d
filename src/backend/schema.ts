/**
 * The Backend JSON Schema (schemas/backend.schema.json), compiled once at module load. It judges
 * structure; value rules that JSON Schema expresses badly live in rules/.
 */
import { readFileSync } from 'node:fs';
import type { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { convertAjvErrors } from './ajv-errors.js';
import { unknownField, type FieldError } from './field-errors.js';
import type { Issue } from './issues.js';
import type { Segments } from './paths.js';
import { XBACKEND_FIELD_HINTS } from './rules/data.js';
import { ALL_ERRORS_MAX_NODES, exceedsNodes, MAX_COLLECTED_ISSUES } from './limits.js';

/** ajv-formats' default export is typed for CommonJS; under NodeNext it needs this cast. */
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

// src/backend/ under vitest and dist/backend/ under node are both two levels below the repo root.
export const BACKEND_SCHEMA_URL = new URL('../../schemas/backend.schema.json', import.meta.url);

export const BACKEND_SCHEMA: Readonly<Record<string, unknown>> = JSON.parse(readFileSync(BACKEND_SCHEMA_URL, 'utf8')) as Record<string, unknown>;

const strictAjv = (allErrors: boolean) => {
  const ajv = new Ajv2020({ allErrors, strict: true, verbose: true });
  addFormats(ajv as unknown as Ajv);
  return ajv;
};
const collectingAjv = strictAjv(true);
const failFastAjv = strictAjv(false);

/** Reads a JSON Schema shipped in schemas/ (`name` relative to the repo root's schemas/). */
export const readShippedSchema = (name: string): Readonly<Record<string, unknown>> =>
  JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/**
 * Compiles a kind's JSON Schema into the structure check of the validation pipeline. A fail-fast
 * pass decides valid or not (the hot path: a valid object is walked once, nothing counted); an
 * invalid one is validated again collecting every problem, unless it has more than
 * ALL_ERRORS_MAX_NODES nodes: then its first problem is all it gets (same verdict, bounded cost).
 */
export function compileStructure(
  schema: Readonly<Record<string, unknown>>,
  /** Rewrites an error (e.g. adds a hint to an unknown field); `at` is where it is. */
  mapError: (error: FieldError, at: Segments) => FieldError = (error) => error,
): (object: unknown) => Issue[] {
  const validateStructure = collectingAjv.compile(schema);
  const validateFirstProblem = failFastAjv.compile(schema);
  return (object) => {
    if (validateFirstProblem(object)) return [];
    const validate = exceedsNodes(object, ALL_ERRORS_MAX_NODES) ? validateFirstProblem : validateStructure;
    if (validate !== validateFirstProblem && validate(object)) return []; // cannot happen: same schema
    const errors = validate.errors && validate.errors.length > MAX_COLLECTED_ISSUES ? validate.errors.slice(0, MAX_COLLECTED_ISSUES) : validate.errors;
    return convertAjvErrors(errors, '', { data: object }).map((c) => ({
      error: mapError(c.error, c.at),
      // A missing property is a fact about its parent object (Kubernetes ratchets `required` the same way).
      scope: [c.error.type === 'FieldValueRequired' ? c.at.slice(0, -1) : c.at],
    }));
  };
}

/** Structural problems of `object`, as issues scoped to the value each one is about. */
export const schemaIssues: (object: unknown) => Issue[] = compileStructure(BACKEND_SCHEMA, (error, at) => (error.type === 'FieldValueUnknown' ? withFieldHint(error, at) : error));

/** `spec.destination.ports[].tls.validation`: the key of a field-hint table entry. */
function hintKey(at: Segments): string {
  let key = '';
  for (const s of at) key += typeof s === 'number' ? '[]' : key ? `.${s}` : s;
  return key;
}

/** An unknown field that is another API's (Gateway API XBackend's) says where its value goes. */
function withFieldHint(error: FieldError, at: Segments): FieldError {
  const key = hintKey(at);
  return Object.prototype.hasOwnProperty.call(XBACKEND_FIELD_HINTS, key) ? unknownField(error.field, XBACKEND_FIELD_HINTS[key]) : error;
}
