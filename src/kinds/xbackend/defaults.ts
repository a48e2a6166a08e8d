/**
 * XBackend defaulting: an ExternalHostname without `tls` (and a protocol other than cleartext H2C)
 * gets `{mode: ServerOnly, validation: {hostname: <hostname>, wellKnownCACertificates: System}}`:
 * TLS by default, verified against the system roots. Nothing else changes; a malformed hostname is
 * left for the validating webhook to explain. The patch comes from the Backend's shared diff.
 */
import { defaultBackendWith, type DefaultingResult } from '../../backend/defaults.js';
import { isPlainObject } from '../../backend/paths.js';
import { hostnameSyntaxProblem } from '../../backend/rules/hostnames.js';
import { EXTERNAL_HOSTNAME } from './types.js';

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** In place on a copy; returns the dotted paths set. */
export function applyXBackendDefaults(object: unknown): string[] {
  if (!isPlainObject(object) || !isPlainObject(object['spec'])) return [];
  const spec = object['spec'];
  if (spec['type'] !== EXTERNAL_HOSTNAME || hasOwn(spec, 'tls') || spec['protocol'] === 'H2C') return [];
  const member = spec['externalHostname'];
  const hostname = isPlainObject(member) ? member['hostname'] : undefined;
  if (typeof hostname !== 'string' || hostnameSyntaxProblem(hostname) !== undefined) return [];
  spec['tls'] = { mode: 'ServerOnly', validation: { hostname, wellKnownCACertificates: 'System' } };
  return ['spec.tls'];
}

/** The defaulting patch (never throws; idempotent; never touches a set field). */
export const defaultXBackend = (object: unknown): DefaultingResult => defaultBackendWith(object, applyXBackendDefaults);
