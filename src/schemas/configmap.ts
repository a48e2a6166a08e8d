/**
 * The extension-schema ConfigMap format: what a registration is, and the checks the ConfigMap
 * validating webhook applies so a broken schema is refused when applied, not discovered later.
 */
import { type FieldError, invalid, required, tooLong } from '../backend/field-errors.js';
import { compileExtensionSchema, DEFAULT_COMPILE_LIMITS, type SchemaCompileError, type SchemaCompileLimits } from './compile.js';
import type { ConfigMapObject } from './source.js';

export const EXTENSION_SCHEMA_LABEL = 'ainetworking.prototype.x-k8s.io/extension-schema';
/** Label selector the sources use to find extension-schema ConfigMaps. */
export const EXTENSION_SCHEMA_SELECTOR = `${EXTENSION_SCHEMA_LABEL}=true`;

export const TYPE_KEY = 'type';
export const SCHEMA_KEY = 'schema.json';
export const DESCRIPTION_KEY = 'description';
export const MAX_DESCRIPTION_LENGTH = 1024;

export const TYPE_FIELD = 'data.type';
export const SCHEMA_FIELD = `data[${SCHEMA_KEY}]`;
export const DESCRIPTION_FIELD = 'data.description';

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const EXTENSION_TYPE = new RegExp(`^(${DNS_LABEL}(\\.${DNS_LABEL})*)/([A-Z][A-Za-z0-9]{0,62})(:v(0|[1-9][0-9]{0,8}))?$`);
const MAX_SUBDOMAIN = 253;

export const EXTENSION_TYPE_HINT =
  'must be <dns-subdomain>/<Kind> optionally followed by :v<N>, e.g. gateway.networking.k8s.io/CredentialInjector:v1';

/**
 * Every admission checks each extension's type, and a cluster has few distinct types: remember the
 * answers (a pure function of the string), in a map that is simply emptied when it fills up.
 */
const typeProblems = new Map<string, string | undefined>();
const MAX_REMEMBERED_TYPES = 1024;
const MAX_REMEMBERED_TYPE_LENGTH = 512;

/** Why an extension type string is malformed, or undefined when it is well formed. */
export function extensionTypeProblem(value: string): string | undefined {
  if (value.length > MAX_REMEMBERED_TYPE_LENGTH) return judgeExtensionType(value);
  const known = typeProblems.get(value);
  if (known !== undefined || typeProblems.has(value)) return known;
  const problem = judgeExtensionType(value);
  if (typeProblems.size >= MAX_REMEMBERED_TYPES) typeProblems.clear();
  typeProblems.set(value, problem);
  return problem;
}

function judgeExtensionType(value: string): string | undefined {
  const m = EXTENSION_TYPE.exec(value);
  if (!m) return EXTENSION_TYPE_HINT;
  if ((m[1] ?? '').length > MAX_SUBDOMAIN) return `the prefix must be at most ${MAX_SUBDOMAIN} characters`;
  return undefined;
}

export const isExtensionType = (value: string): boolean => extensionTypeProblem(value) === undefined;

export interface SchemaRegistration {
  readonly type: string;
  readonly schemaText: string;
  readonly description?: string;
}

/** Reads data.type / data["schema.json"] / data.description; does not compile. */
export function readRegistration(cm: ConfigMapObject): { ok: true; registration: SchemaRegistration } | { ok: false; errors: FieldError[] } {
  const data = cm.data ?? {};
  const errors: FieldError[] = [];
  const type = data[TYPE_KEY];
  if (type === undefined || type === '') errors.push(required(TYPE_FIELD, 'the extension type this schema describes'));
  else {
    const problem = extensionTypeProblem(type);
    if (problem) errors.push(invalid(TYPE_FIELD, type, problem));
  }
  const schemaText = data[SCHEMA_KEY];
  if (schemaText === undefined || schemaText.trim() === '') errors.push(required(SCHEMA_FIELD, 'a JSON Schema (draft 2020-12 or draft-07) object'));
  const description = data[DESCRIPTION_KEY];
  if (description !== undefined && description.length > MAX_DESCRIPTION_LENGTH) errors.push(tooLong(DESCRIPTION_FIELD, MAX_DESCRIPTION_LENGTH));
  if (errors.length > 0 || type === undefined || schemaText === undefined) return { ok: false, errors };
  return { ok: true, registration: description === undefined ? { type, schemaText } : { type, schemaText, description } };
}

/** The field error for a schema that failed to compile; the value itself is not echoed back. */
export function schemaCompileFieldError(error: SchemaCompileError): FieldError {
  return invalid(SCHEMA_FIELD, undefined, error.message);
}

/** Everything wrong with an extension-schema ConfigMap, for its validating webhook (empty: allowed). */
export function reviewSchemaConfigMap(cm: ConfigMapObject, limits: SchemaCompileLimits = DEFAULT_COMPILE_LIMITS): FieldError[] {
  const read = readRegistration(cm);
  const errors = read.ok ? [] : [...read.errors];
  const schemaText = cm.data?.[SCHEMA_KEY];
  // Compile even when data.type is wrong, so one round trip reports every problem.
  if (schemaText !== undefined && schemaText.trim() !== '') {
    const compiled = compileExtensionSchema(schemaText, limits);
    if (!compiled.ok) errors.push(schemaCompileFieldError(compiled.error));
  }
  return errors;
}

/** The ConfigMap webhook's reviewer for extension-schema registrations. */
export const extensionSchemaReviewer = {
  label: EXTENSION_SCHEMA_LABEL,
  what: 'extension schema',
  review: (cm: ConfigMapObject): FieldError[] => reviewSchemaConfigMap(cm),
};
