import { exceedsNodes } from './limits.js';

/**
 * Kubernetes-style field errors (k8s.io/apimachinery/pkg/util/validation/field), rendered the way
 * the API server renders its own, so kubectl prints our denials like native validation failures.
 */

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  // Not in apimachinery's list: strict decoding there reports `unknown field "x"` as a warning.
  // We refuse unknown fields, and name the reason for what it is.
  | 'FieldValueUnknown';

export interface FieldError {
  readonly type: FieldErrorType;
  /** Dotted path with [i] indexes, e.g. spec.destination.ports[1].tls.sni. */
  readonly field: string;
  /** The offending value; `undefined` when the body does not show one. */
  readonly badValue?: unknown;
  readonly detail?: string;
}

/** Builds dotted field paths the way field.Path does. */
export class FieldPath {
  private constructor(private readonly text: string) {}

  static root(name: string): FieldPath {
    return new FieldPath(name);
  }

  child(...names: string[]): FieldPath {
    let text = this.text;
    for (const name of names) text = text ? `${text}.${name}` : name;
    return new FieldPath(text);
  }

  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }

  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }

  /** Appends a JSON pointer verbatim (extension rawConfig paths: rawConfig/categories/1). */
  pointer(jsonPointer: string): FieldPath {
    return new FieldPath(`${this.text}${jsonPointer}`);
  }

  toString(): string {
    return this.text;
  }
}

type PathLike = FieldPath | string;
const str = (p: PathLike): string => (typeof p === 'string' ? p : p.toString());

export const required = (field: PathLike, detail?: string): FieldError => ({
  type: 'FieldValueRequired',
  field: str(field),
  detail,
});

export const invalid = (field: PathLike, badValue: unknown, detail?: string): FieldError => ({
  type: 'FieldValueInvalid',
  field: str(field),
  badValue,
  detail,
});

export const notSupported = (field: PathLike, badValue: unknown, supported: readonly string[], hint?: string): FieldError => ({
  type: 'FieldValueNotSupported',
  field: str(field),
  badValue,
  detail: [supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : '', hint ?? '']
    .filter(Boolean)
    .join('; '),
});

export const forbidden = (field: PathLike, detail?: string): FieldError => ({
  type: 'FieldValueForbidden',
  field: str(field),
  detail,
});

export const duplicate = (field: PathLike, badValue: unknown): FieldError => ({
  type: 'FieldValueDuplicate',
  field: str(field),
  badValue,
});

export const tooLong = (field: PathLike, maxLength: number): FieldError => ({
  type: 'FieldValueTooLong',
  field: str(field),
  detail: `may not be more than ${maxLength} bytes`,
});

export const tooMany = (field: PathLike, actual: number, max: number): FieldError => ({
  type: 'FieldValueTooMany',
  field: str(field),
  badValue: actual,
  detail: `must have at most ${max} items`,
});

export const typeInvalid = (field: PathLike, badValue: unknown, detail: string): FieldError => ({
  type: 'FieldValueTypeInvalid',
  field: str(field),
  badValue,
  detail,
});

export const unknownField = (field: PathLike, detail?: string): FieldError => ({
  type: 'FieldValueUnknown',
  field: str(field),
  detail,
});

const TYPE_LABEL: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueUnknown: 'Unknown field',
};

/** Types whose body never shows the value (as in apimachinery's ErrorBody). */
const VALUE_HIDDEN = new Set<FieldErrorType>(['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong', 'FieldValueUnknown']);

/** Longest rendering of a bad value: a 1 MiB string must not travel back in a denial. */
const MAX_VALUE_CHARS = 256;

/** Maps print with sorted keys (as Kubernetes prints them), so messages never depend on key order. */
const sortedKeys = (_key: string, v: unknown): unknown =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
    : v;

/** Containers with more members than this are described, not printed (printing would copy them whole). */
const MAX_PRINTED_NODES = 256;

function renderValue(value: unknown): string {
  let text: string;
  if (value === null) text = 'null';
  else if (typeof value === 'string') text = JSON.stringify(value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS + 1) : value);
  else if (typeof value === 'object' && exceedsNodes(value, MAX_PRINTED_NODES)) {
    text = Array.isArray(value) ? `<array of ${value.length} items>` : `<object with ${Object.keys(value).length} keys>`;
  }
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else {
    try {
      text = JSON.stringify(value, sortedKeys) ?? String(value);
    } catch {
      text = '<unprintable>';
    }
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}...(truncated)` : text;
}

/** The message without the field, e.g. `Duplicate value: 443` (apimachinery's ErrorBody). */
export function errorBody(e: FieldError): string {
  let s = TYPE_LABEL[e.type];
  if (!VALUE_HIDDEN.has(e.type) && e.badValue !== undefined) s += `: ${renderValue(e.badValue)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

/** `spec.destination.ports[1].number: Duplicate value: 443` */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

/** Compares field paths with indexes as numbers: ports[2] before ports[10]. */
function comparePaths(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    // Odd positions of a split on a capture group are the digit runs.
    if (i % 2 === 1) return Number(x) - Number(y) || (x < y ? -1 : 1);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Stable order: by field path, then type, then message, so verdicts never depend on key order. */
export function sortFieldErrors(errors: readonly FieldError[]): FieldError[] {
  if (errors.length < 2) return [...errors];
  const bodies = new Map<FieldError, string>();
  const body = (e: FieldError): string => {
    let text = bodies.get(e);
    if (text === undefined) bodies.set(e, (text = errorBody(e)));
    return text;
  };
  return [...errors].sort((a, b) => comparePaths(a.field, b.field) || cmp(a.type, b.type) || cmp(body(a), body(b)));
}
