/**
 * What a policy matches, compiled once: host patterns (exact or `*.suffix`), CIDR ranges, Service
 * destinations and a namespace label selector. Matching a destination yields a specificity, so the
 * most specific policy can win; matching a namespace yields match, no match, or unknown (its labels
 * are not known here: the caller decides, see docs/policies.md).
 */
import { isPlainObject } from '../backend/paths.js';
import { contains, type Cidr, embeddedIPv4, parseCidr } from '../backend/rules/ip.js';
import { type LabelRequirement, matchesLabels } from '../schemas/label-selector.js';
import type { DestinationCriteria, LabelSelectorSpec, ServicePattern } from './format.js';

/** The destination of a Backend, as far as it can be read. */
export type DestinationFacts =
  | { readonly type: 'Fqdn'; readonly host: string }
  | { readonly type: 'Ip'; readonly address: string; readonly bytes: readonly number[] }
  | { readonly type: 'Service'; readonly name: string; readonly namespace: string };

/**
 * How specifically a policy names a destination, compared as a tuple, larger first:
 * tier 3: exact (host name, a single address /32 or /128, Service name and namespace);
 * tier 2: a pattern (`*.suffix`: more labels is more specific; a CIDR: longer prefix; a Service by name or namespace only);
 * tier 1: the policy names no destination at all (it matches every Backend).
 */
export interface Specificity {
  readonly tier: 1 | 2 | 3;
  readonly detail: number;
  /** The pattern that matched, for reports. */
  readonly pattern: string;
}

export const compareSpecificity = (a: Specificity, b: Specificity): number => b.tier - a.tier || b.detail - a.detail;

interface HostPattern {
  readonly text: string;
  /** `.openai.com` for `*.openai.com`; undefined for exact names. */
  readonly suffix?: string;
  readonly labels: number;
}

export interface DestinationMatcher {
  readonly hosts: readonly HostPattern[];
  readonly cidrs: readonly Cidr[];
  readonly services: readonly ServicePattern[];
}

export function compileDestinations(criteria: DestinationCriteria | undefined): DestinationMatcher | undefined {
  if (!criteria || (!criteria.hosts && !criteria.cidrs && !criteria.services)) return undefined;
  return {
    hosts: (criteria.hosts ?? []).map((text) =>
      text.startsWith('*.') ? { text, suffix: text.slice(1), labels: text.split('.').length - 1 } : { text, labels: text.split('.').length },
    ),
    cidrs: (criteria.cidrs ?? []).flatMap((text) => parseCidr(text) ?? []),
    services: criteria.services ?? [],
  };
}

/** The best (most specific) pattern of `matcher` naming `dest`, or undefined when none does. */
export function matchDestination(matcher: DestinationMatcher, dest: DestinationFacts): Specificity | undefined {
  let best: Specificity | undefined;
  const offer = (s: Specificity): void => {
    if (!best || compareSpecificity(s, best) < 0) best = s;
  };
  if (dest.type === 'Fqdn') {
    for (const h of matcher.hosts) {
      if (h.suffix === undefined) {
        if (dest.host === h.text) offer({ tier: 3, detail: h.labels, pattern: h.text });
      } else if (dest.host.endsWith(h.suffix) && dest.host.length > h.suffix.length) {
        offer({ tier: 2, detail: h.labels, pattern: h.text });
      }
    }
  } else if (dest.type === 'Ip') {
    // ::ffff:a.b.c.d (and NAT64, 6to4, ... forms) reach the IPv4 host: they match IPv4 ranges too.
    const embedded = embeddedIPv4(dest.bytes);
    const candidates = embedded ? [dest.bytes, embedded.bytes] : [dest.bytes];
    for (const c of matcher.cidrs) {
      if (!candidates.some((b) => b.length === c.bytes.length && contains(c, b))) continue;
      const full = c.bytes.length * 8;
      offer(c.prefix === full ? { tier: 3, detail: full, pattern: c.text } : { tier: 2, detail: c.prefix, pattern: c.text });
    }
  } else {
    for (const s of matcher.services) {
      if (s.name !== undefined && s.name !== dest.name) continue;
      if (s.namespace !== undefined && s.namespace !== dest.namespace) continue;
      const pattern = `service ${s.namespace ?? '*'}/${s.name ?? '*'}`;
      offer(s.name !== undefined && s.namespace !== undefined ? { tier: 3, detail: 0, pattern } : { tier: 2, detail: s.name !== undefined ? 1 : 0, pattern });
    }
  }
  return best;
}

export const MATCH_ALL: Specificity = Object.freeze({ tier: 1, detail: 0, pattern: '*' });

/** Reads the destination of a Backend-shaped object; undefined when it is missing or malformed. */
export function destinationFacts(object: unknown, backendNamespace: string | undefined): DestinationFacts | undefined {
  if (!isPlainObject(object) || !isPlainObject(object['spec'])) return undefined;
  const d = object['spec']['destination'];
  if (!isPlainObject(d)) return undefined;
  const member = (key: string): Record<string, unknown> | undefined => (isPlainObject(d[key]) ? (d[key] as Record<string, unknown>) : undefined);
  switch (d['type']) {
    case 'Fqdn': {
      const host = member('fqdn')?.['hostname'];
      return typeof host === 'string' && host !== '' ? { type: 'Fqdn', host: host.toLowerCase() } : undefined;
    }
    case 'Ip': {
      const address = member('ip')?.['address'];
      if (typeof address !== 'string') return undefined;
      const cidr = parseCidr(`${address}/${address.includes(':') ? 128 : 32}`);
      return cidr ? { type: 'Ip', address, bytes: cidr.bytes } : undefined;
    }
    case 'Service':
    case 'KubernetesService': {
      const svc = member('service');
      const name = svc?.['name'];
      const ns = typeof svc?.['namespace'] === 'string' && svc['namespace'] !== '' ? svc['namespace'] : backendNamespace;
      return typeof name === 'string' && typeof ns === 'string' ? { type: 'Service', name, namespace: ns } : undefined;
    }
    default:
      return undefined;
  }
}

/** Where a destination's identifying value sits, for errors about the destination itself. */
export function destinationField(dest: DestinationFacts): string {
  return dest.type === 'Fqdn' ? 'spec.destination.fqdn.hostname' : dest.type === 'Ip' ? 'spec.destination.ip.address' : 'spec.destination.service';
}

export const describeDestination = (dest: DestinationFacts): string =>
  dest.type === 'Fqdn' ? dest.host : dest.type === 'Ip' ? dest.address : `service ${dest.namespace}/${dest.name}`;

/** The label every namespace carries (set by the API server since Kubernetes 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface NamespaceSelector {
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector reads only the namespace name label: it never needs the cache. */
  readonly nameOnly: boolean;
}

export function compileNamespaceSelector(spec: LabelSelectorSpec | undefined): NamespaceSelector | undefined {
  if (!spec) return undefined;
  const requirements: LabelRequirement[] = [
    ...Object.entries(spec.matchLabels ?? {}).map(([key, value]): LabelRequirement => ({ op: 'eq', key, value })),
    ...(spec.matchExpressions ?? []).map((e): LabelRequirement => {
      switch (e.operator) {
        case 'In':
          return { op: 'in', key: e.key, values: e.values ?? [] };
        case 'NotIn':
          return { op: 'notin', key: e.key, values: e.values ?? [] };
        case 'Exists':
          return { op: 'exists', key: e.key };
        default:
          return { op: 'notexists', key: e.key };
      }
    }),
  ];
  return { requirements, nameOnly: requirements.every((r) => r.key === NAMESPACE_NAME_LABEL) };
}

/** Namespace labels as far as they are known: undefined means unknown, not "no labels". */
export interface NamespaceLabelLookup {
  labelsOf(namespace: string): Readonly<Record<string, string>> | undefined;
}

export const NO_NAMESPACE_LABELS: NamespaceLabelLookup = Object.freeze({ labelsOf: () => undefined });

export type SelectorVerdict = 'match' | 'nomatch' | 'unknown';

export function evaluateNamespaceSelector(selector: NamespaceSelector, namespace: string | undefined, lookup: NamespaceLabelLookup): SelectorVerdict {
  if (namespace === undefined || namespace === '') return 'unknown';
  const known = lookup.labelsOf(namespace);
  if (known === undefined && !selector.nameOnly) return 'unknown';
  const labels = { ...(known ?? {}), [NAMESPACE_NAME_LABEL]: namespace };
  return matchesLabels(selector.requirements, labels) ? 'match' : 'nomatch';
}
