/**
 * The served kinds, and every question asked about them: which unit judges a request's kind, which
 * kinds an endpoint serves (the webhook configurations' rules, checked against manifests/ by a
 * test), and the kind names metrics may carry. Adding a kind: a folder under src/kinds/ and one
 * entry in KINDS.
 */
import { BACKEND_UNIT } from './backend/index.js';
import { BACKEND_TLS_POLICY_UNIT } from './backendtlspolicy/index.js';
import { describeUnit, type Endpoint, type GroupVersionKind, type JudgedOperation, type KindUnit } from './unit.js';
import { XBACKEND_UNIT } from './xbackend/index.js';

export const KINDS: readonly KindUnit[] = [BACKEND_UNIT, XBACKEND_UNIT, BACKEND_TLS_POLICY_UNIT];

/** group -> version -> kind -> unit: looked up on every admission, without building a key string. */
const BY_GVK = new Map<string, Map<string, Map<string, KindUnit>>>();
for (const unit of KINDS) {
  for (const version of unit.versions) {
    for (const { kind } of unit.kinds) {
      const versions = BY_GVK.get(unit.group) ?? new Map<string, Map<string, KindUnit>>();
      BY_GVK.set(unit.group, versions);
      const kinds = versions.get(version) ?? new Map<string, KindUnit>();
      versions.set(version, kinds);
      kinds.set(kind, unit);
    }
  }
}

/** The unit serving this group/version/kind, or undefined. */
export const kindFor = (gvk: GroupVersionKind): KindUnit | undefined => BY_GVK.get(gvk.group)?.get(gvk.version)?.get(gvk.kind);

export const all = (): readonly KindUnit[] => KINDS;

/** The units an endpoint serves. */
export const servedOn = (endpoint: Endpoint): KindUnit[] => KINDS.filter((u) => u.judges[endpoint] !== undefined);

/** The unit for `gvk` when `endpoint` serves it. */
export function unitOn(endpoint: Endpoint, gvk: GroupVersionKind): KindUnit | undefined {
  const unit = kindFor(gvk);
  return unit?.judges[endpoint] ? unit : undefined;
}

/** True when `operation` is one the unit judges on `endpoint`. */
export const judges = (unit: KindUnit, endpoint: Endpoint, operation: string): operation is JudgedOperation =>
  (unit.judges[endpoint] as readonly string[] | undefined)?.includes(operation) === true;

/** `a/v Backend and XBackendDestination, b/v XBackend` for messages. */
export const describeServed = (endpoint: Endpoint): string => servedOn(endpoint).map(describeUnit).join('; ');

/** A group some unit serves (a kind or version typo there would go unjudged). */
export const isServedGroup = (group: string): boolean => KINDS.some((u) => u.group === group);

/** Kind names a metric label may carry. */
export const servedKindNames = (): string[] => [...new Set(KINDS.flatMap((u) => u.kinds.map((k) => k.kind)))];

export interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
  scope: 'Namespaced' | 'Cluster';
}

/** The admissionregistration rules of the units an endpoint serves, in manifests' shape. */
export function webhookRules(endpoint: Endpoint, units: readonly KindUnit[] = servedOn(endpoint)): Array<{ unit: KindUnit; rule: WebhookRule }> {
  return units
    .filter((u) => u.judges[endpoint] !== undefined)
    .map((unit) => ({
      unit,
      rule: {
        apiGroups: [unit.group],
        apiVersions: [...unit.versions],
        resources: unit.kinds.map((k) => k.resource),
        operations: [...unit.judges[endpoint]!],
        scope: unit.scope,
      },
    }));
}
