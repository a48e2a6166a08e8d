/**
 * List + watch of one resource, with no cache of its own: pages of the list and watch events go
 * straight to the caller, who keeps only what it needs (client-node's informer keeps every object
 * whole, managedFields included: 800 MiB at 50,000 Backends). Lists are paged, and the next page is
 * asked for only once the caller is done with the last one. The watch resumes from the last
 * resourceVersion seen (bookmarks included) after a clean close, and re-lists after 410 Gone and,
 * with backoff, after an error. The owner re-lists when it wants a fresh look (`relist()`: against
 * a watch that dies without a word, or to see every object again). A 404 means the kind is not
 * served (no CRD): an empty list, said once, looked for again later.
 */
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { firstLine, statusOf } from './errors.js';

export interface WatchedResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export interface ListWatchHandlers {
  /** A fresh list begins (pages follow, then listDone; a list that fails midway starts again here). */
  listStarted(): void;
  /** One page of a fresh list (the caller upserts and marks what it saw); the next page waits for it. */
  listPage(items: readonly Record<string, unknown>[]): void | Promise<void>;
  /** The list is complete: whatever the caller holds that it did not see is gone. */
  listDone(): void;
  added(object: Record<string, unknown>): void;
  modified(object: Record<string, unknown>): void;
  deleted(object: Record<string, unknown>): void;
  /** The list or watch failed (not 404); state is kept, a retry follows after `retryInMs`. */
  failed?(reason: string, retryInMs: number): void;
  /** 404: the resource is not served by this cluster (looked for again after `absentRetryMs`). */
  absent?(): void;
}

export interface ListWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly api: CustomObjectsApi;
  readonly watchClass: new (kc: KubeConfig) => { watch: InstanceType<typeof import('@kubernetes/client-node').Watch>['watch'] };
  readonly resource: WatchedResource;
  readonly handlers: ListWatchHandlers;
  readonly pageSize?: number;
  readonly absentRetryMs?: number;
  /** Longest wait between retries after errors (ms); doubling from 500 ms. */
  readonly maxBackoffMs?: number;
}

type Listed = { items?: Record<string, unknown>[]; metadata?: { resourceVersion?: string; _continue?: string; continue?: string } };

export class ListWatch {
  private stopped = false;
  /** Bumped by every (re)start: callbacks of an older generation are ignored. */
  private generation = 0;
  private attempt = 0;
  private resourceVersion: string | undefined;
  private abort: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private wasAbsent = false;
  /** relist() callers: settled by the next list that completes (resolved) or fails (rejected). */
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];

  constructor(private readonly options: ListWatchOptions) {}

  /**
   * A fresh list now (then the watch from its resourceVersion), superseding a list or watch under
   * way. Resolves once a list has been delivered whole; rejects if it failed (a retry follows).
   */
  relist(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.listNow();
    return done;
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
    this.settle();
  }

  private settle(error?: unknown): void {
    for (const w of this.waiters.splice(0)) error === undefined ? w.resolve() : w.reject(error);
  }

  private listNow(): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
    void this.list(generation).then(
      (rv) => {
        if (generation !== this.generation) return;
        this.attempt = 0;
        this.wasAbsent = false;
        this.resourceVersion = rv;
        this.settle();
        this.watch(generation);
      },
      (error: unknown) => this.failed(generation, error),
    );
  }

  private async list(generation: number): Promise<string | undefined> {
    const { group, version, plural } = this.options.resource;
    const limit = this.options.pageSize ?? 500;
    let cont: string | undefined;
    let rv: string | undefined;
    this.options.handlers.listStarted();
    do {
      const page = (await this.options.api.listClusterCustomObject({ group, version, plural, limit, ...(cont ? { _continue: cont } : {}) })) as Listed;
      if (generation !== this.generation) return undefined;
      rv ??= page.metadata?.resourceVersion;
      await this.options.handlers.listPage(page.items ?? []);
      if (generation !== this.generation) return undefined;
      cont = page.metadata?._continue || page.metadata?.continue || undefined;
    } while (cont);
    this.options.handlers.listDone();
    return rv;
  }

  private watch(generation: number): void {
    const { group, version, plural } = this.options.resource;
    const path = `/apis/${group}/${version}/${plural}`;
    const query = { allowWatchBookmarks: true, ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}) };
    let gone = false;
    const onEvent = (type: string, object: Record<string, unknown>): void => {
      if (generation !== this.generation) return;
      const rv = (object?.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
      if (type === 'ERROR') {
        // The API server says 410 Gone (history compacted) in a 200 stream: only a fresh list helps.
        gone = (object as { code?: unknown }).code === 410;
        return;
      }
      if (typeof rv === 'string') this.resourceVersion = rv;
      if (type === 'ADDED') this.options.handlers.added(object);
      else if (type === 'MODIFIED') this.options.handlers.modified(object);
      else if (type === 'DELETED') this.options.handlers.deleted(object);
    };
    const onDone = (error: unknown): void => {
      if (generation !== this.generation || this.stopped) return;
      if (gone || statusOf(error) === 410) return this.listNow();
      if (error) return this.failed(generation, error);
      // A clean close (the API server's watch timeout): resume from where we were.
      this.watch(generation);
    };
    new this.options.watchClass(this.options.kubeConfig).watch(path, query, onEvent as never, onDone).then(
      (controller) => {
        if (generation === this.generation && !this.stopped) this.abort = controller;
        else controller.abort();
      },
      (error: unknown) => onDone(error ?? new Error('watch failed')),
    );
  }

  private failed(generation: number, error: unknown): void {
    if (generation !== this.generation || this.stopped) return;
    this.generation++; // whatever the failed attempt still delivers is ignored
    let delay: number;
    if (statusOf(error) === 404) {
      // Not served: nothing stored. An empty list, so whatever was kept (a CRD removed) goes.
      delay = this.options.absentRetryMs ?? 60_000;
      if (!this.wasAbsent) this.options.handlers.absent?.();
      this.wasAbsent = true;
      this.options.handlers.listStarted();
      this.options.handlers.listDone();
      this.settle();
    } else {
      delay = Math.min(this.options.maxBackoffMs ?? 30_000, 500 * 2 ** Math.min(this.attempt++, 6));
      this.options.handlers.failed?.(firstLine(error), delay);
      this.settle(error);
    }
    this.retryTimer = setTimeout(() => this.listNow(), delay);
    this.retryTimer.unref?.();
  }
}
