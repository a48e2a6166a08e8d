/** Destination hostnames and SNI names: RFC 1123 syntax, and the cluster-internal refusal. */
import { isPlainDnsName, MAX_LABEL, MAX_SUBDOMAIN } from './names.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Why `name` is not a fully qualified lower-case DNS name, or undefined. The last label may not be
 * all digits, which refuses every IPv4 literal, shorthands like `10.0.0.010` included.
 */
export function hostnameSyntaxProblem(name: string): string | undefined {
  if (isPlainDnsName(name, 2, false)) return undefined;
  if (name.length > MAX_SUBDOMAIN) return `must be at most ${MAX_SUBDOMAIN} characters`;
  if (name.includes(':') || name.startsWith('[')) return 'must be a DNS name, not an IP address';
  if (name.endsWith('.')) return 'must not end with a dot';
  if (name.includes('*')) return 'must not be a wildcard';
  if (name !== name.toLowerCase()) return 'must be lower case';
  const labels = name.split('.');
  if (labels.some((l) => l.length === 0)) return 'must not contain empty labels';
  if (labels.some((l) => l.length > MAX_LABEL)) return `each label must be at most ${MAX_LABEL} characters`;
  if (!labels.every((l) => LABEL.test(l))) {
    return "each label must be lower-case letters, digits and '-', starting and ending with a letter or digit (RFC 1123)";
  }
  if (labels.length < 2) return 'must have at least two labels (a fully qualified name)';
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'must not be an IP address (its last label is all digits)';
  return undefined;
}

const normalizeDomain = (domain: string): string => domain.trim().toLowerCase().replace(/^\.+|\.+$/g, '');

/** The cluster domain is one option for the life of the process: normalise it once, not per request. */
let lastDomain: { raw: string; domain: string; suffix: string } | undefined;
function clusterDomainOf(raw: string): { domain: string; suffix: string } {
  if (lastDomain?.raw !== raw) {
    const domain = normalizeDomain(raw);
    lastDomain = { raw, domain, suffix: `.${domain}` };
  }
  return lastDomain;
}

/** Why `name` points inside the cluster (a Backend must use type Service for that), or undefined. */
export function clusterInternalProblem(name: string, clusterDomain: string): string | undefined {
  const internal = 'is a cluster-internal name; use type Service for in-cluster destinations';
  if (name === 'localhost' || name.endsWith('.localhost')) return internal;
  if (name === 'svc' || name.endsWith('.svc')) return internal;
  const { domain, suffix } = clusterDomainOf(clusterDomain);
  if (domain && (name === domain || name.endsWith(suffix))) return internal;
  return undefined;
}

/** `fqdn.hostname`: syntax first, except that `localhost` deserves the cluster-internal reason. */
export function destinationHostnameProblem(name: string, clusterDomain: string): string | undefined {
  if (name === 'localhost') return clusterInternalProblem(name, clusterDomain);
  return hostnameSyntaxProblem(name) ?? clusterInternalProblem(name, clusterDomain);
}
