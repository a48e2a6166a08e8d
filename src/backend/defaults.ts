/**
 * Defaulting for the mutating webhook, as a minimal RFC 6902 patch: default a copy, then diff
 * (controller-runtime's PatchResponseFromRaw does the same). Runs before OpenAPI validation, so
 * the object may be malformed anywhere: such parts are left alone, never "repaired".
 */
import jsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { dotted, isPlainObject } from './paths.js';
import { hostnameSyntaxProblem } from './rules/hostnames.js';
import { DEFAULT_MCP_PATH } from './rules/ports.js';

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

/** The defaulting patch for `object` (any value: never throws; idempotent; never touches a set field). */
export function defaultBackend(object: unknown): DefaultingResult {
  return defaultBackendWith(object, applyBuiltInDefaults);
}

/**
 * Runs `apply` (in-place defaulting steps, e.g. platform-policy defaults around the built-in ones)
 * on a copy of `object` and returns one minimal patch from the original to the result.
 */
export function defaultBackendWith(object: unknown, apply: (copy: unknown) => string[]): DefaultingResult {
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
