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

/** ajv-formats' default export is typed for CommonJS; under NodeNext it needs this cast. */
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

// src/backend/ under vitest and dist/backend/ under node are both two levels below the repo root.
export const BACKEND_SCHEMA_URL = new URL('../../schemas/backend.schema.json', import.meta.url);

export const BACKEND_SCHEMA: Readonly<Record<string, unknown>> = JSON.parse(readFileSync(BACKEND_SCHEMA_URL, 'utf8')) as Record<string, unknown>;

const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
addFormats(ajv as unknown as Ajv);
const validateStructure = ajv.compile(BACKEND_SCHEMA);

/** Structural problems of `object`, as issues scoped to the value each one is about. */
export function schemaIssues(object: unknown): Issue[] {
  if (validateStructure(object)) return [];
  return convertAjvErrors(validateStructure.errors, '', { data: object }).map((c) => ({
    error: c.error.type === 'FieldValueUnknown' ? withFieldHint(c.error, c.at) : c.error,
    // A missing property is a fact about its parent object (Kubernetes ratchets `required` the same way).
    scope: [c.error.type === 'FieldValueRequired' ? c.at.slice(0, -1) : c.at],
  }));
}

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
