/**
 * Prototype-pollution keys in the parts of an object we judge. JSON.parse and the yaml library make
 * `__proto__` a plain own property (nothing is polluted here), but whoever consumes the object next
 * (a gateway merging rawConfig into defaults) may copy it with assignment and rewrite a prototype.
 * So such keys are refused where we judge, each at its field path, and nowhere else: a key in
 * `status`, `metadata` or the old object never blocks a request.
 */
import { forbidden } from './field-errors.js';
import type { Issue } from './issues.js';
import { dotted, pointer, type Segments } from './paths.js';

/** Top-level members of an object we never judge (the API server and controllers own them). */
const UNJUDGED_TOP_LEVEL = new Set(['metadata', 'status']);

const PROTO_DETAIL = 'a "__proto__" key can rewrite object prototypes where this object is copied; rename it';
const CONSTRUCTOR_DETAIL = 'a "constructor.prototype" key can rewrite object prototypes where this object is copied; rename it';

/** `spec.x[0].rawConfig/a/b`: inside rawConfig, paths are JSON pointers (as schema errors are). */
function render(segments: Segments): string {
  const raw = segments.findIndex((s, i) => s === 'rawConfig' && i >= 3 && segments[0] === 'spec' && segments[1] === 'extensions');
  return raw < 0 ? dotted(segments) : `${dotted(segments.slice(0, raw + 1))}${pointer(segments.slice(raw + 1))}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

const isPollutingKey = (key: string, value: unknown): boolean =>
  key === '__proto__' || (key === 'constructor' && isObject(value) && !Array.isArray(value) && Object.hasOwn(value, 'prototype'));

/** The common case, on every admission: one pass that allocates nothing per node and finds none. */
function hasPrototypeKey(object: Record<string, unknown>, skip: ReadonlySet<string>): boolean {
  const nodes: object[] = [];
  // Cycles cannot come from JSON, but the validators take any value (tests hand them cyclic ones).
  const seen = new Set<object>([object]);
  for (const key in object) {
    if (skip.has(key)) continue;
    const child = object[key];
    if (isPollutingKey(key, child)) return true;
    if (isObject(child)) nodes.push(child);
  }
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) if (isObject(node[i])) nodes.push(node[i] as object);
      continue;
    }
    for (const key in node) {
      const child = (node as Record<string, unknown>)[key];
      if (isPollutingKey(key, child)) return true;
      if (isObject(child)) nodes.push(child);
    }
  }
  return false;
}

export interface PrototypeKey {
  /** Path of the refused member: the `__proto__` key, or `constructor`'s `prototype`. */
  readonly at: Segments;
  readonly detail: string;
}

/**
 * Every `__proto__` key, and every `constructor` key holding an object with an own `prototype`, in
 * `root` minus the top-level members named in `skip`. Iterative; the body reader (or the YAML
 * reader) already bounded the depth.
 */
export function findPrototypeKeys(root: unknown, skip: ReadonlySet<string> = new Set()): PrototypeKey[] {
  if (!isObject(root) || Array.isArray(root) || !hasPrototypeKey(root, skip)) return [];
  const out: PrototypeKey[] = [];
  // Each entry is (parent, path of the member to visit); the key is the path's last segment.
  const stack: Array<[unknown, Segments]> = [];
  const seen = new Set<object>([root]);
  for (const key of Object.keys(root)) if (!skip.has(key)) stack.push([root, [key]]);
  while (stack.length > 0) {
    const [parent, at] = stack.pop()!;
    const key = at[at.length - 1]!;
    const value = (parent as Record<string | number, unknown>)[key];
    if (typeof key === 'string' && isPollutingKey(key, value)) {
      out.push(key === '__proto__' ? { at, detail: PROTO_DETAIL } : { at: [...at, 'prototype'], detail: CONSTRUCTOR_DETAIL });
      continue;
    }
    if (!isObject(value) || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) stack.push([value, [...at, i]]);
    else for (const k of Object.keys(value)) stack.push([value, [...at, k]]);
  }
  return out;
}

/**
 * The refused keys of a Backend's judged part (everything but top-level `metadata` and `status`),
 * each Forbidden at its field path; the ratcheting scope is the key itself.
 */
export function prototypeKeyIssues(object: unknown): Issue[] {
  return findPrototypeKeys(object, UNJUDGED_TOP_LEVEL).map((k) => ({ error: forbidden(render(k.at), k.detail), scope: [k.at] }));
}

/** `field` is `base` or inside it (`base.x`, `base[0]`, `base/x`). */
const within = (field: string, base: string): boolean =>
  field === base || (field.startsWith(base) && (field[base.length] === '.' || field[base.length] === '[' || field[base.length] === '/'));

/** The key's refusal is the one verdict for it and everything under it (not also "Unknown field"). */
export function withPrototypeKeyIssues(found: readonly Issue[], issues: readonly Issue[]): readonly Issue[] {
  if (found.length === 0) return issues;
  return [...found, ...issues.filter((i) => !found.some((f) => within(i.error.field, f.error.field)))];
}
