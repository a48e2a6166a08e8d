/**
 * The plumbing every ConfigMap-fed registry shares (extension schemas, platform policies): a set of
 * sources started together, readiness as "every source synced", the trust judgement across sources,
 * a version per ConfigMap so an event already seen is a no-op, and counting an untrusted ConfigMap
 * once per version rather than once per re-list.
 */
import { createHash } from 'node:crypto';
import type { ConfigMapObject, ConfigMapSource, ConfigMapSourceEvent } from './source.js';

/** resourceVersion when there is one (cluster), else a hash of the data (files). */
export function configMapVersion(cm: ConfigMapObject): string {
  const rv = cm.metadata.resourceVersion;
  if (rv) return `rv:${rv}`;
  return `sha:${createHash('sha256').update(JSON.stringify(cm.data ?? {})).digest('hex')}`;
}

/** Registry-wide key of one ConfigMap: its source and its key within the source. */
export const claimKeyOf = (sourceId: string, key: string): string => `${sourceId}\u0000${key}`;

export class SourceSet {
  private readonly sources: ConfigMapSource[] = [];
  private started = false;

  constructor(private readonly onEvent: (sourceId: string, event: ConfigMapSourceEvent) => void) {}

  /** Starts every source; resolves once all have started (not synced). Source ids must be unique. */
  async start(sources: readonly ConfigMapSource[]): Promise<void> {
    for (const source of sources) {
      if (this.sources.some((s) => s.id === source.id)) throw new Error(`duplicate source id ${source.id}`);
      this.sources.push(source);
    }
    this.started = true;
    await Promise.all(sources.map((source) => source.start((event) => this.onEvent(source.id, event))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.stop()));
  }

  isReady(): boolean {
    return this.started && this.sources.every((s) => s.hasSynced());
  }

  /**
   * Whether a cluster source trusts ConfigMaps in this namespace. With no cluster source (files
   * only) nothing in the cluster is read, so no namespace is singled out: true.
   */
  isTrustedNamespace(namespace: string): boolean {
    const judges = this.sources.filter((s) => typeof s.isTrustedNamespace === 'function');
    if (judges.length === 0) return true;
    return judges.some((s) => s.isTrustedNamespace!(namespace));
  }
}

/** Untrusted ConfigMaps already reported, so each version is counted and logged once. */
export class UntrustedSeen {
  private readonly seen = new Map<string, string>();

  /** True the first time this claim is seen at this version. */
  firstSighting(claimKey: string, version: string): boolean {
    if (this.seen.get(claimKey) === version) return false;
    this.seen.set(claimKey, version);
    return true;
  }

  forget(claimKey: string): void {
    this.seen.delete(claimKey);
  }
}
