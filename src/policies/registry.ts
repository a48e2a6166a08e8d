/**
 * The platform-policy registry: policy ConfigMap events in, an immutable PolicySet out. The same
 * rules as the extension-schema registry, through the same ConfigMapRegistry (schemas/configmap-registry.ts):
 * - each ConfigMap version is parsed once; a version already seen is a no-op;
 * - a version that fails to parse or check never replaces that ConfigMap's last good policy (the
 *   failure is kept for GET /policies, logged and counted);
 * - ConfigMaps from untrusted namespaces are ignored and counted;
 * - one `namespace/name` seen from two sources (a file and the cluster): the older serves, the other
 *   is reported as a duplicate.
 * Every change builds a new PolicySet (copy-on-write): a snapshot taken by a request never changes.
 */
import { all } from '../kinds/registry.js';
import { formatFieldError } from '../backend/field-errors.js';
import { ConfigMapRegistry, type ConfigMapRegistryOptions, type LoadResult, loadedOrigin, olderFirst, type RegistryEntry } from '../schemas/configmap-registry.js';
import type { ConfigMapObject, ConfigMapOrigin } from '../schemas/source.js';
import { readPolicyConfigMap } from './format.js';
import { type CompiledPolicy, compilePolicy, EMPTY_POLICY_SET, matchPatterns, type PolicyConflict, PolicySet } from './policy-set.js';

export const POLICY_REGISTRY_NAME = 'backend-policies';

export type PolicyRegistryOptions = ConfigMapRegistryOptions;

type Entry = RegistryEntry<CompiledPolicy>;

/** One row of GET /policies. */
export interface PolicyListing {
  ref: string;
  source: { kind: 'configmap' | 'file'; namespace?: string; name: string; path?: string };
  resourceVersion?: string;
  description?: string;
  /** A good version is in force. */
  loaded: boolean;
  /** The newest version's problem, when it failed (the last good one may still serve). */
  error?: string;
  /** Served by another ConfigMap of the same namespace/name. */
  duplicateOf?: string;
  match?: { patterns: string[]; namespaceSelector?: unknown };
  overrides?: string[];
  defaults?: string[];
}

/** Which kinds policies apply to, and what of a policy does not apply to a kind. */
export interface PolicyKindScope {
  group: string;
  kinds: string[];
  /** Override rules and `defaults` that mean nothing for these kinds (never enforced on them). */
  notApplied: string[];
}

export interface PolicyReport {
  policies: PolicyListing[];
  conflicts: PolicyConflict[];
  /** The served kinds policies apply to (src/kinds units with a policy view). */
  appliesTo: PolicyKindScope[];
}

export function policyScopes(): PolicyKindScope[] {
  return all().flatMap((u) => (u.policies ? [{ group: u.group, kinds: u.kinds.map((k) => k.kind), notApplied: [...u.policies.notApplied] }] : []));
}

export class PolicyRegistry extends ConfigMapRegistry<CompiledPolicy> {
  private current: PolicySet = EMPTY_POLICY_SET;

  constructor(options: PolicyRegistryOptions) {
    super({ name: POLICY_REGISTRY_NAME, item: 'policy', items: 'policies', sizeField: 'policies' }, options);
  }

  /** The policies in force, for one admission request. */
  snapshot(): PolicySet {
    return this.current;
  }

  /** What GET /policies shows: every policy ConfigMap seen (loaded or not) and the conflicts. */
  report(): PolicyReport {
    const serving = new Map(this.current.policies.map((p) => [p.ref, p]));
    const rows: PolicyListing[] = [...this.entries.values()].map((e) => {
      const served = e.good;
      const row: PolicyListing = {
        ref: e.ref,
        source: {
          kind: e.origin.kind,
          name: served?.origin.name ?? e.ref.split('/').pop()!,
          ...(served?.origin.namespace === undefined ? {} : { namespace: served.origin.namespace }),
          ...(e.origin.path === undefined ? {} : { path: e.origin.path }),
        },
        loaded: served !== undefined,
      };
      if (served?.origin.resourceVersion !== undefined) row.resourceVersion = served.origin.resourceVersion;
      if (served?.document.description !== undefined) row.description = served.document.description;
      if (e.error !== undefined) row.error = e.error;
      if (served && serving.get(e.ref) !== served) row.duplicateOf = e.ref;
      if (served) {
        const selector = served.document.match?.namespaceSelector;
        row.match = { patterns: matchPatterns(served), ...(selector ? { namespaceSelector: selector } : {}) };
        row.overrides = Object.keys(served.document.overrides ?? {});
        row.defaults = Object.keys(served.document.defaults ?? {});
      }
      return row;
    });
    rows.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    return { policies: rows, conflicts: [...this.current.conflicts], appliesTo: policyScopes() };
  }

  protected load(cm: ConfigMapObject, origin: ConfigMapOrigin): LoadResult<CompiledPolicy> {
    const read = readPolicyConfigMap(cm);
    if (!read.ok) return { ok: false, error: read.errors.map(formatFieldError).join('; ') };
    return { ok: true, value: compilePolicy(read.document, loadedOrigin(cm, origin)) };
  }

  protected newEntry(entry: Entry): Entry {
    return entry;
  }

  protected servingCount(): number {
    return this.current.size;
  }

  /** One policy per namespace/name (the oldest), into a fresh PolicySet. */
  protected rebuild(): void {
    const byRef = new Map<string, Entry[]>();
    for (const e of this.entries.values()) {
      if (!e.good) continue;
      const list = byRef.get(e.ref) ?? [];
      list.push(e);
      byRef.set(e.ref, list);
    }
    const policies: CompiledPolicy[] = [];
    for (const [ref, list] of byRef) {
      const [winner, ...others] = list.sort(olderFirst);
      policies.push(winner!.good!);
      for (const other of others) {
        this.reportShadowed(other.claimKey, { configMap: ref, source: other.sourceId, servedFrom: winner!.sourceId }, 'policy seen twice under one name; the older one serves');
      }
      this.shadowed.delete(winner!.claimKey);
    }
    this.current = new PolicySet(policies);
    for (const c of this.current.conflicts) {
      this.log.debug({ key: c.key, policies: c.policies, winner: c.winner }, 'policies conflict; name order decides');
    }
  }
}
