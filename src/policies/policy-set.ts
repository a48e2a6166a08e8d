/**
 * Compiled policies and the immutable set of them a request is judged against. Each override rule
 * and each default is a "key"; for one Backend, the most specific matching policy that sets a key
 * decides it (docs/policies.md). Two policies that set one key differently for the very same
 * pattern are a conflict: name order decides, and GET /policies reports it.
 */
import { jsonEqual } from '../backend/paths.js';
import { extensionKind, type OverrideRule, type PolicyAction, type PolicyDocument } from './format.js';
import { compileDestinations, compileNamespaceSelector, type DestinationMatcher, type NamespaceSelector } from './match.js';

export interface PolicyOrigin {
  readonly kind: 'configmap' | 'file';
  readonly namespace?: string;
  readonly name: string;
  readonly path?: string;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
}

/** One setting a policy makes, under the key precedence is resolved on. */
export interface PolicySetting {
  /** e.g. `overrides.allowedTlsModes`, `overrides.extensions[x.io/Kind]`, `defaults.caBundleRef`. */
  readonly key: string;
  /** The rule or default name shown to users (`allowedTlsModes`, `requiredExtensions`, `tlsMode`). */
  readonly rule: string;
  readonly value: unknown;
}

export interface CompiledPolicy {
  /** `namespace/name` (or the bare name of a namespace-less file ConfigMap): how users are told whom to ask. */
  readonly ref: string;
  readonly origin: PolicyOrigin;
  readonly document: PolicyDocument;
  /** Undefined: the policy names no destination and matches every Backend. */
  readonly destinations?: DestinationMatcher;
  readonly namespaceSelector?: NamespaceSelector;
  readonly deniedDestinations?: DestinationMatcher;
  readonly allowedDestinations?: DestinationMatcher;
  readonly settings: readonly PolicySetting[];
}

export const actionOf = (rule: { action?: PolicyAction } | undefined): PolicyAction => rule?.action ?? 'deny';

const SIMPLE_OVERRIDES: readonly OverrideRule[] = [
  'allowedTlsModes',
  'forbidInsecureSkipVerify',
  'requireSniMatchesHostname',
  'allowedPorts',
  'allowedProtocols',
  'deniedDestinations',
  'allowedDestinations',
];

/** Extension rules resolve per type, so a specific policy's list does not silently drop a general one's. */
export const extensionRuleKey = (type: string): string => `overrides.extensions[${type}]`;
export const defaultExtensionKey = (type: string): string => `defaults.extensions[${extensionKind(type)}]`;

function settingsOf(doc: PolicyDocument): PolicySetting[] {
  const out: PolicySetting[] = [];
  const o = doc.overrides ?? {};
  for (const rule of SIMPLE_OVERRIDES) {
    if (o[rule] !== undefined) out.push({ key: `overrides.${rule}`, rule, value: o[rule] });
  }
  for (const rule of ['requiredExtensions', 'forbiddenExtensions'] as const) {
    for (const type of o[rule]?.types ?? []) out.push({ key: extensionRuleKey(type), rule, value: { rule, type, action: actionOf(o[rule]) } });
  }
  const d = doc.defaults ?? {};
  for (const field of ['tlsMode', 'clientCertificateRef', 'caBundleRef', 'subjectAltNames'] as const) {
    if (d[field] !== undefined) out.push({ key: `defaults.${field}`, rule: field, value: d[field] });
  }
  for (const ext of d.extensions ?? []) out.push({ key: defaultExtensionKey(ext.type), rule: 'extensions', value: ext });
  return out;
}

export function compilePolicy(document: PolicyDocument, origin: PolicyOrigin): CompiledPolicy {
  const ref = origin.namespace ? `${origin.namespace}/${origin.name}` : origin.name;
  const destinations = compileDestinations(document.match);
  const namespaceSelector = compileNamespaceSelector(document.match?.namespaceSelector);
  const deniedDestinations = compileDestinations(document.overrides?.deniedDestinations);
  const allowedDestinations = compileDestinations(document.overrides?.allowedDestinations);
  return {
    ref,
    origin,
    document,
    ...(destinations ? { destinations } : {}),
    ...(namespaceSelector ? { namespaceSelector } : {}),
    ...(deniedDestinations ? { deniedDestinations } : {}),
    ...(allowedDestinations ? { allowedDestinations } : {}),
    settings: settingsOf(document),
  };
}

/** The patterns a policy matches by, as text (`*` when it names no destination). */
export function matchPatterns(policy: CompiledPolicy): string[] {
  const m = policy.destinations;
  if (!m) return ['*'];
  return [...m.hosts.map((h) => h.text), ...m.cidrs.map((c) => c.text), ...m.services.map((s) => `service ${s.namespace ?? '*'}/${s.name ?? '*'}`)];
}

export interface PolicyConflict {
  /** The setting both policies make differently, e.g. `overrides.allowedTlsModes`. */
  readonly key: string;
  /** The patterns both match by: for these, neither is more specific. */
  readonly patterns: string[];
  /** Name order: the first wins. */
  readonly policies: [string, string];
  readonly winner: string;
  /** Present when a namespace selector limits where the conflict can bite. */
  readonly note?: string;
}

function findConflicts(policies: readonly CompiledPolicy[]): PolicyConflict[] {
  const out: PolicyConflict[] = [];
  for (let i = 0; i < policies.length; i++) {
    for (let j = i + 1; j < policies.length; j++) {
      const a = policies[i]!;
      const b = policies[j]!;
      const shared = matchPatterns(a).filter((p) => matchPatterns(b).includes(p));
      if (shared.length === 0) continue;
      const bSettings = new Map(b.settings.map((s) => [s.key, s.value]));
      for (const s of a.settings) {
        if (!bSettings.has(s.key) || jsonEqual(s.value, bSettings.get(s.key))) continue;
        const selective = a.namespaceSelector !== undefined || b.namespaceSelector !== undefined;
        out.push({
          key: s.key,
          patterns: shared,
          policies: [a.ref, b.ref],
          winner: a.ref,
          ...(selective ? { note: 'only for namespaces both namespace selectors match' } : {}),
        });
      }
    }
  }
  return out;
}

/** An immutable snapshot: policies in name order, conflicts computed once. */
export class PolicySet {
  readonly policies: readonly CompiledPolicy[];
  readonly conflicts: readonly PolicyConflict[];

  constructor(policies: readonly CompiledPolicy[]) {
    this.policies = [...policies].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    this.conflicts = findConflicts(this.policies);
  }

  get size(): number {
    return this.policies.length;
  }
}

export const EMPTY_POLICY_SET = new PolicySet([]);
