/**
 * Paths inside an admitted object as segment lists, rendered as Kubernetes field paths
 * (`spec.destination.ports[1].tls`) or, inside an extension's rawConfig, as a JSON pointer suffix
 * (`spec.extensions[0].rawConfig/categories/1`).
 */

export type Segment = string | number;
export type Segments = readonly Segment[];

/** Keys that render bare after a dot; anything else (user-chosen unknown keys) is quoted. */
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
/** Unknown keys are user input: bound them so a huge key cannot blow up a denial. */
const MAX_KEY_CHARS = 64;

/** Replaces control characters, which would make kubectl drop a warning line. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function boundedKey(key: string): string {
  return key.length > MAX_KEY_CHARS ? `${key.slice(0, MAX_KEY_CHARS)}...` : key;
}

/** `spec.destination.ports[1].number`; odd keys as `metadata["a b"]`. */
export function dotted(segments: Segments): string {
  let text = '';
  for (const s of segments) {
    if (typeof s === 'number') text += `[${s}]`;
    else if (PLAIN_KEY.test(s)) text += text ? `.${s}` : s;
    else text += `[${printable(JSON.stringify(boundedKey(s)))}]`;
  }
  return text;
}

/** RFC 6901 escaping of one reference token. */
export const escapePointerToken = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** A JSON pointer for `segments` (`/categories/1`), printable and bounded. */
export function pointer(segments: Segments): string {
  return segments.map((s) => `/${typeof s === 'number' ? s : printable(escapePointerToken(boundedKey(s)))}`).join('');
}

/** Parses a JSON pointer (as ajv's instancePath) into segments; array indexes stay strings here. */
export function parsePointer(ptr: string): string[] {
  if (ptr === '') return [];
  return ptr
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

const hasOwn = (o: object, k: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** One step down; `present` tells a missing key from a key holding undefined. */
function step(container: unknown, s: Segment): { present: boolean; value: unknown } {
  if (Array.isArray(container)) {
    const i = typeof s === 'number' ? s : /^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : -1;
    return i >= 0 && i < container.length ? { present: true, value: container[i] } : { present: false, value: undefined };
  }
  if (isPlainObject(container) && typeof s === 'string' && hasOwn(container, s)) return { present: true, value: container[s] };
  return { present: false, value: undefined };
}

export interface Lookup {
  /** Every segment resolved. */
  present: boolean;
  /** All segments but the last resolved (the parent exists). */
  parentPresent: boolean;
  value: unknown;
}

export function lookup(root: unknown, segments: Segments): Lookup {
  let value = root;
  for (let i = 0; i < segments.length; i++) {
    const next = step(value, segments[i]!);
    if (!next.present) return { present: false, parentPresent: i === segments.length - 1, value: undefined };
    value = next.value;
  }
  return { present: true, parentPresent: true, value };
}

export const valueAt = (root: unknown, segments: Segments): unknown => lookup(root, segments).value;

/** Structural JSON equality, key order ignored; iterative so deep documents cannot overflow. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') {
      if (typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y)) continue;
      return false;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], y[i]]);
      continue;
    }
    const xo = x as Record<string, unknown>;
    const yo = y as Record<string, unknown>;
    const xk = Object.keys(xo);
    if (xk.length !== Object.keys(yo).length) return false;
    for (const k of xk) {
      if (!hasOwn(yo, k)) return false;
      stack.push([xo[k], yo[k]]);
    }
  }
  return true;
}

/**
 * Ratcheting's test: a value counts as unchanged when present and equal in both objects, or absent
 * from the same (existing) parent in both.
 */
export function unchangedAt(object: unknown, oldObject: unknown, path: Segments): boolean {
  const now = lookup(object, path);
  const before = lookup(oldObject, path);
  if (now.present !== before.present) return false;
  if (!now.present) return now.parentPresent && before.parentPresent;
  return jsonEqual(now.value, before.value);
}
