/**
 * Defaulting for the mutating webhook, as a minimal RFC 6902 patch: default a copy, then diff
 * (controller-runtime's PatchResponseFromRaw does the same). The built-in defaults only add two
 * kinds of field, so defaultBackend builds that same patch in one read-only pass instead (it is the
 * hot path of /mutate); defaultBackendWith stays the reference. Runs before OpenAPI validation, so
 * the object may be malformed anywhere: such parts are left alone, never "repaired".
 */
import jsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { dotted, isPlainObject } from './paths.js';
import { hostnameSyntaxProblem } from './rules/hostnames.js';
import { DEFAULT_MCP_PATH } from './rules/ports.js';
import { MAX_PORTS } from './limits.js';

export type { Operation };

export interface DefaultingResult {
  /** RFC 6902 operations that turn the object into its defaulted form; empty when nothing changes. */
  patch: Operation[];
  /** Dotted paths of the fields set, e.g. spec.destination.ports[0].tls (for audit annotations). */
  defaulted: string[];
}

const NOTHING: DefaultingResult = Object.freeze({ patch: [], defaulted: [] }) as unknown as DefaultingResult;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** The hostname to use as SNI, when the destination is an Fqdn with a well-formed one. */
function fqdnSni(destination: Record<string, unknown>): string | undefined {
  if (destination['type'] !== 'Fqdn') return undefined;
  const fqdn = destination['fqdn'];
  if (!isPlainObject(fqdn)) return undefined;
  const host = fqdn['hostname'];
  // A malformed hostname would only produce a second error at tls.sni.
  return typeof host === 'string' && hostnameSyntaxProblem(host) === undefined ? host : undefined;
}

/** Applies the spec's defaults to `object` in place; returns the dotted paths it set. */
export function applyBuiltInDefaults(object: unknown): string[] {
  const set: string[] = [];
  if (!isPlainObject(object) || !isPlainObject(object['spec'])) return set;
  const destination = object['spec']['destination'];
  if (!isPlainObject(destination) || !Array.isArray(destination['ports'])) return set;
  const sni = fqdnSni(destination);
  destination['ports'].forEach((port: unknown, i) => {
    if (!isPlainObject(port)) return;
    const at = ['spec', 'destination', 'ports', i];
    // External traffic is encrypted unless someone explicitly writes mode: None.
    if (sni !== undefined && !hasOwn(port, 'tls')) {
      port['tls'] = { mode: 'Simple', sni };
      set.push(dotted([...at, 'tls']));
    }
    const options = port['protocolOptions'];
    if (isPlainObject(options) && isPlainObject(options['mcp']) && !hasOwn(options['mcp'], 'path')) {
      options['mcp']['path'] = DEFAULT_MCP_PATH;
      set.push(dotted([...at, 'protocolOptions', 'mcp', 'path']));
    }
  });
  return set;
}

/**
 * More ports than the schema allows: the object is refused (TooMany), and defaulting each of a
 * million ports would make a patch (and an answer) of hundreds of megabytes. Left alone.
 */
function tooManyPorts(object: unknown): boolean {
  try {
    const spec = isPlainObject(object) ? object['spec'] : undefined;
    const destination = isPlainObject(spec) ? spec['destination'] : undefined;
    const ports = isPlainObject(destination) ? destination['ports'] : undefined;
    return Array.isArray(ports) && ports.length > MAX_PORTS;
  } catch {
    return false; // a throwing getter: the paths below cope with it
  }
}

/** The defaulting patch for `object` (any value: never throws; idempotent; never touches a set field). */
export function defaultBackend(object: unknown): DefaultingResult {
  if (tooManyPorts(object)) return NOTHING;
  try {
    if (isPlainObject(object) && isJsonData(object, 0)) return builtInPatch(object);
  } catch {
    // A throwing getter or proxy trap: the reference path decides what such an object gets.
  }
  // Anything that is not plain JSON data is rare (the request body is parsed JSON): use the reference.
  return defaultBackendWith(object, applyBuiltInDefaults);
}

/**
 * Deeper than this, the reference path decides (JSON.stringify gives up somewhere past a few
 * thousand levels, and a cycle is just an endless depth).
 */
const MAX_JSON_DEPTH = 200;

/**
 * True when `value` survives JSON.stringify + JSON.parse as the same tree: only primitives, plain
 * objects and arrays, no toJSON, no BigInt, no cycle, bounded depth. Then the copy the reference
 * path defaults differs from `value` only in dropped undefined/function/symbol members, which
 * `member` below treats as absent, so the patch can be computed from `value` directly.
 */
function isJsonData(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return true;
    case 'function':
      return typeof (value as { toJSON?: unknown }).toJSON !== 'function';
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      const proto: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < value.length; i++) if (!isJsonData(value[i], depth + 1)) return false;
        return true;
      }
      // Dates, Maps, boxed primitives, class instances: JSON turns them into something else.
      if (proto !== Object.prototype && proto !== null) return false;
      // for-in also visits inherited enumerable keys, a superset of what JSON.stringify reads.
      for (const key in value) if (!isJsonData((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false; // bigint: JSON.stringify throws unless someone gave BigInt a toJSON
  }
}

const isEnumerable = (o: object, k: string): boolean => Object.prototype.propertyIsEnumerable.call(o, k);

/** `o[k]` as the JSON copy has it: own enumerable members with a JSON value, else undefined. */
function member(o: Record<string, unknown>, k: string): unknown {
  if (!isEnumerable(o, k)) return undefined;
  const v = o[k];
  return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
}

/**
 * The patch applyBuiltInDefaults + fast-json-patch `compare` would give, without copying: compare
 * visits array items last to first and emits a port's new keys after recursing into its existing
 * ones, so ports go in descending index order and a port's mcp.path before its tls;
 * applyBuiltInDefaults reports paths ascending, tls first.
 */
function builtInPatch(object: Record<string, unknown>): DefaultingResult {
  const patch: Operation[] = [];
  const defaulted: string[] = [];
  const spec = member(object, 'spec');
  const destination = isPlainObject(spec) ? member(spec, 'destination') : undefined;
  const ports = isPlainObject(destination) ? member(destination, 'ports') : undefined;
  if (!isPlainObject(destination) || !Array.isArray(ports)) return { patch, defaulted };
  const sni = jsonFqdnSni(destination);
  for (let i = ports.length - 1; i >= 0; i--) {
    const port: unknown = ports[i];
    if (!isPlainObject(port)) continue;
    const options = member(port, 'protocolOptions');
    const mcp = isPlainObject(options) ? member(options, 'mcp') : undefined;
    if (isPlainObject(mcp) && member(mcp, 'path') === undefined) {
      patch.push({ op: 'add', path: `/spec/destination/ports/${i}/protocolOptions/mcp/path`, value: DEFAULT_MCP_PATH });
      defaulted.push(`spec.destination.ports[${i}].protocolOptions.mcp.path`);
    }
    if (sni !== undefined && member(port, 'tls') === undefined) {
      patch.push({ op: 'add', path: `/spec/destination/ports/${i}/tls`, value: { mode: 'Simple', sni } });
      defaulted.push(`spec.destination.ports[${i}].tls`);
    }
  }
  defaulted.reverse();
  return { patch, defaulted };
}

/** fqdnSni, reading members the way the JSON copy has them. */
function jsonFqdnSni(destination: Record<string, unknown>): string | undefined {
  if (member(destination, 'type') !== 'Fqdn') return undefined;
  const fqdn = member(destination, 'fqdn');
  if (!isPlainObject(fqdn)) return undefined;
  const host = member(fqdn, 'hostname');
  return typeof host === 'string' && hostnameSyntaxProblem(host) === undefined ? host : undefined;
}

/**
 * The reference: runs `apply` (in-place defaulting steps, e.g. platform-policy defaults around the
 * built-in ones) on a copy of `object` and returns one minimal patch from the original to the result.
 */
export function defaultBackendWith(object: unknown, apply: (copy: unknown) => string[]): DefaultingResult {
  if (tooManyPorts(object)) return NOTHING;
  try {
    // Both sides from the JSON text, so the patch is against exactly what the API server sent.
    const text = JSON.stringify(object);
    if (typeof text !== 'string') return NOTHING;
    const after: unknown = JSON.parse(text);
    const defaulted = apply(after);
    if (defaulted.length === 0) return { patch: [], defaulted: [] };
    // The second copy only when there is something to diff: most objects need no defaults.
    const before: unknown = JSON.parse(text);
    return { patch: jsonPatch.compare(before as object, after as object), defaulted };
  } catch {
    // Too deep, cyclic or otherwise undiffable: leave it to the validating webhook to explain.
    return { patch: [], defaulted: [] };
  }
}
