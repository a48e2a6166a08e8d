/** Destination hostnames and SNI names: RFC 1123 syntax, no IP address spelling, and the cluster-internal refusal. */
import { DEFAULT_INTERNAL_DOMAINS, LOOPBACK_FIRST_LABELS } from './data.js';
import { formatV4, parseInetAton } from './ip.js';
import { isPlainDnsName, MAX_LABEL, MAX_SUBDOMAIN } from './names.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The IPv4 address (`a.b.c.d`) a resolver turns `name` into without asking DNS, or undefined.
 * The test is "would inet_aton accept it", so hexadecimal, octal and short forms count:
 * `0xa9.0xfe.0xa9.0xfe`, `0251.0376.0251.0376`, `127.1`, `2852039166`, `169.254.169.0xfe`.
 */
export function resolvesAsIPv4(name: string): string | undefined {
  const bytes = parseInetAton(name);
  return bytes ? formatV4(bytes) : undefined;
}

const resolvesAsIpProblem = (address: string): string => `resolves as an IP address (${address}): it must be a DNS name`;

/**
 * Why `name` is not a fully qualified lower-case DNS name, or undefined. Every spelling a resolver
 * reads as an IPv4 address is refused ("resolves as an IP address"), and so is any name whose last
 * label is all digits.
 */
export function hostnameSyntaxProblem(name: string): string | undefined {
  if (isPlainDnsName(name, 2, false)) {
    // Only a name starting with a digit can be an address spelling: one comparison for the rest.
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) return undefined;
    const address = resolvesAsIPv4(name);
    return address === undefined ? undefined : resolvesAsIpProblem(address);
  }
  if (name.length > MAX_SUBDOMAIN) return `must be at most ${MAX_SUBDOMAIN} characters`;
  const address = resolvesAsIPv4(name);
  if (address !== undefined) return resolvesAsIpProblem(address);
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

/** Internal-domain lists are options too: normalised once per list (the last one kept at hand). */
type Suffixes = ReadonlyArray<{ domain: string; suffix: string }>;
const internalCache = new WeakMap<readonly string[], Suffixes>();
let lastInternal: { list: readonly string[]; compiled: Suffixes } | undefined;
function internalDomainsOf(list: readonly string[]): Suffixes {
  if (lastInternal?.list === list) return lastInternal.compiled;
  let compiled = internalCache.get(list);
  if (!compiled) {
    compiled = list.flatMap((raw) => {
      const domain = typeof raw === 'string' ? normalizeDomain(raw) : '';
      return domain ? [{ domain, suffix: `.${domain}` }] : [];
    });
    internalCache.set(list, compiled);
  }
  lastInternal = { list, compiled };
  return compiled;
}

/** Whether the first label of `name` is one of the loopback labels (no substring made: this runs on every admission). */
function hasLoopbackFirstLabel(name: string): boolean {
  if (name.charCodeAt(0) !== 108) return false; // 'l'
  for (const label of LOOPBACK_FIRST_LABELS) {
    if (name.startsWith(label) && (name.length === label.length || name.charCodeAt(label.length) === 46)) return true;
  }
  return false;
}

/**
 * Why `name` points inside the cluster or at the gateway itself (a Backend must use type Service
 * for in-cluster destinations), or undefined. `internalDomains`: suffixes besides the cluster
 * domain and `svc` (default `clusterset.local`, the multi-cluster Services domain).
 */
export function clusterInternalProblem(name: string, clusterDomain: string, internalDomains: readonly string[] = DEFAULT_INTERNAL_DOMAINS): string | undefined {
  if (hasLoopbackFirstLabel(name) || name.endsWith('.localhost')) {
    return 'is a loopback name (localhost): it resolves to the gateway itself';
  }
  const internal = 'is a cluster-internal name; use type Service for in-cluster destinations';
  if (name === 'svc' || name.endsWith('.svc')) return internal;
  const { domain, suffix } = clusterDomainOf(clusterDomain);
  if (domain && (name === domain || name.endsWith(suffix))) return internal;
  for (const d of internalDomainsOf(internalDomains)) {
    if (name === d.domain || name.endsWith(d.suffix)) return `is a cluster-internal name (under ${d.domain}); use type Service for in-cluster destinations`;
  }
  return undefined;
}

/** `fqdn.hostname`: syntax first, except that `localhost` deserves the loopback reason. */
export function destinationHostnameProblem(name: string, clusterDomain: string, internalDomains: readonly string[] = DEFAULT_INTERNAL_DOMAINS): string | undefined {
  if (name === 'localhost') return clusterInternalProblem(name, clusterDomain, internalDomains);
  return hostnameSyntaxProblem(name) ?? clusterInternalProblem(name, clusterDomain, internalDomains);
}

/** The same judgement with the server's options (`clusterDomain`, `internalDomains`). */
export function destinationHostnameProblemFor(name: string, options: { readonly clusterDomain: string; readonly internalDomains?: readonly string[] }): string | undefined {
  return destinationHostnameProblem(name, options.clusterDomain, options.internalDomains ?? DEFAULT_INTERNAL_DOMAINS);
}
