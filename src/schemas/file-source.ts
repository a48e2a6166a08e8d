/**
 * ConfigMaps from YAML/JSON files: the embedded default schemas, `--schema-dir`, and the offline
 * CLI. Files are written by whoever deploys the webhook, so their ConfigMaps are trusted.
 *
 * A file that fails to read or parse on reload keeps its previous ConfigMaps in force (and an error
 * event is emitted); a file that disappears removes its ConfigMaps.
 */
import { type FSWatcher, promises as fs, watch as fsWatch } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { type LabelRequirement, matchesLabels, parseLabelSelector } from './label-selector.js';
import type { ConfigMapObject, ConfigMapSource, ConfigMapSourceEvent, ConfigMapSourceHandler, SourceError } from './source.js';

const FILE_PATTERN = /\.(ya?ml|json)$/i;
/** Larger files are refused unread: a schema is bounded far below this anyway. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The example/default extension schemas shipped with the package (`schemas/extensions/`). */
export function defaultExtensionSchemaDir(): string {
  // src/schemas/ and dist/schemas/ both sit two levels below the package root.
  return fileURLToPath(new URL('../../schemas/extensions/', import.meta.url));
}

export interface FileConfigMapSourceOptions {
  /** Directories (their *.yaml, *.yml, *.json files, not recursive) and/or single files. */
  readonly paths: readonly string[];
  /** Only ConfigMaps whose labels match; undefined keeps every ConfigMap. */
  readonly labelSelector?: string;
  /** Reload when files change (fs.watch on each path). */
  readonly watch?: boolean;
  readonly debounceMs?: number;
  /** Source id for logs; defaults to `files:<paths>`. */
  readonly id?: string;
}

export class FileSourceError extends Error {
  constructor(
    readonly code: 'PathNotFound' | 'InvalidLabelSelector',
    message: string,
  ) {
    super(message);
  }
}

interface Entry {
  readonly configMap: ConfigMapObject;
  readonly path: string;
  readonly fingerprint: string;
}

/** Every ConfigMap in one file's documents (List objects flattened), or the reason it could not be read. */
export function configMapsFromText(text: string): { ok: true; configMaps: ConfigMapObject[] } | { ok: false; message: string } {
  const docs = parseAllDocuments(text);
  const out: ConfigMapObject[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) return { ok: false, message: doc.errors[0]!.message };
    collect(doc.toJS(), out);
  }
  return { ok: true, configMaps: out };
}

function collect(value: unknown, out: ConfigMapObject[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const obj = value as Record<string, unknown>;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    for (const item of obj.items) collect(item, out);
    return;
  }
  if (obj.kind !== 'ConfigMap') return;
  const metadata = obj.metadata as Record<string, unknown> | undefined;
  if (!metadata || typeof metadata.name !== 'string') return;
  const data: Record<string, string> = {};
  if (obj.data && typeof obj.data === 'object') {
    // ConfigMap data values are strings; YAML may have typed a scalar (`version: 1`).
    for (const [k, v] of Object.entries(obj.data as Record<string, unknown>)) if (v !== null && v !== undefined) data[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const labels = metadata.labels && typeof metadata.labels === 'object' ? (metadata.labels as Record<string, string>) : undefined;
  const created = metadata.creationTimestamp;
  out.push({
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: metadata.name,
      ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}),
      ...(typeof metadata.resourceVersion === 'string' ? { resourceVersion: metadata.resourceVersion } : {}),
      ...(typeof created === 'string' ? { creationTimestamp: created } : created instanceof Date ? { creationTimestamp: created.toISOString() } : {}),
      ...(labels ? { labels } : {}),
    },
    data,
  });
}

export class FileConfigMapSource implements ConfigMapSource {
  readonly id: string;
  private readonly selector: LabelRequirement[] | undefined;
  private handler: ConfigMapSourceHandler | undefined;
  private entries = new Map<string, Entry>();
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private synced = false;
  private stopped = false;
  private reloading: Promise<void> = Promise.resolve();

  constructor(private readonly options: FileConfigMapSourceOptions) {
    this.id = options.id ?? `files:${options.paths.join(',')}`;
    try {
      this.selector = options.labelSelector === undefined ? undefined : parseLabelSelector(options.labelSelector);
    } catch (err) {
      throw new FileSourceError('InvalidLabelSelector', err instanceof Error ? err.message : String(err));
    }
  }

  /** Loads every file once (then watches, if asked). Rejects with FileSourceError when a path does not exist. */
  async start(handler: ConfigMapSourceHandler): Promise<void> {
    for (const p of this.options.paths) {
      try {
        await fs.stat(p);
      } catch {
        throw new FileSourceError('PathNotFound', `schema path ${p} does not exist or is unreadable`);
      }
    }
    this.handler = handler;
    await this.reload();
    this.synced = true;
    this.emit({ type: 'synced' });
    if (this.options.watch) this.startWatching();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.reloading;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Re-reads every file and emits the differences. Serialised: overlapping calls queue. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => (this.stopped ? undefined : this.reloadOnce()));
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    const next = new Map<string, Entry>();
    for (const file of await this.listFiles()) {
      const loaded = await this.readFile(file);
      if (loaded.ok) {
        for (const entry of loaded.entries) next.set(`${file}#${entry.configMap.metadata.namespace ?? ''}/${entry.configMap.metadata.name}`, entry);
      } else {
        this.emit({ type: 'error', error: loaded.error });
        // Last good: keep what this file provided before.
        for (const [key, entry] of this.entries) if (entry.path === file) next.set(key, entry);
      }
    }
    const previous = this.entries;
    this.entries = next;
    for (const [key, entry] of previous) {
      if (!next.has(key)) this.emit({ type: 'deleted', key, configMap: entry.configMap, origin: { kind: 'file', path: entry.path, trusted: true } });
    }
    for (const [key, entry] of next) {
      const old = previous.get(key);
      if (old?.fingerprint === entry.fingerprint) continue;
      this.emit({ type: old ? 'updated' : 'added', key, configMap: entry.configMap, origin: { kind: 'file', path: entry.path, trusted: true } });
    }
  }

  private async listFiles(): Promise<string[]> {
    const files: string[] = [];
    for (const p of this.options.paths) {
      let stat;
      try {
        stat = await fs.stat(p);
      } catch (err) {
        this.emit({ type: 'error', error: { code: 'ReadFailed', message: `cannot read ${p}: ${(err as Error).message}`, path: p } });
        continue;
      }
      if (!stat.isDirectory()) {
        files.push(path.resolve(p));
        continue;
      }
      // Skip dot-entries: a mounted ConfigMap volume keeps its real files under ..data and ..<timestamp>.
      const names = (await fs.readdir(p)).filter((n) => !n.startsWith('.') && FILE_PATTERN.test(n)).sort();
      for (const name of names) files.push(path.resolve(p, name));
    }
    return files;
  }

  private async readFile(file: string): Promise<{ ok: true; entries: Entry[] } | { ok: false; error: SourceError }> {
    let text: string;
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) return { ok: true, entries: [] };
      if (stat.size > MAX_FILE_BYTES) return { ok: false, error: { code: 'ReadFailed', message: `${file} is larger than ${MAX_FILE_BYTES} bytes`, path: file } };
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      return { ok: false, error: { code: 'ReadFailed', message: `cannot read ${file}: ${(err as Error).message}`, path: file } };
    }
    const parsed = configMapsFromText(text);
    if (!parsed.ok) return { ok: false, error: { code: 'ParseFailed', message: `cannot parse ${file}: ${parsed.message}`, path: file } };
    const entries = parsed.configMaps
      .filter((cm) => this.selector === undefined || matchesLabels(this.selector, cm.metadata.labels))
      .map((cm) => ({ configMap: cm, path: file, fingerprint: JSON.stringify(cm) }));
    return { ok: true, entries };
  }

  private startWatching(): void {
    const debounceMs = this.options.debounceMs ?? 200;
    const schedule = () => {
      if (this.stopped) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.reload();
      }, debounceMs);
    };
    for (const p of this.options.paths) {
      try {
        const watcher = fsWatch(p, { persistent: false }, schedule);
        watcher.on('error', (err) => this.emit({ type: 'error', error: { code: 'ReadFailed', message: `watching ${p} failed: ${err.message}`, path: p } }));
        this.watchers.push(watcher);
      } catch (err) {
        this.emit({ type: 'error', error: { code: 'ReadFailed', message: `cannot watch ${p}: ${(err as Error).message}`, path: p } });
      }
    }
  }

  private emit(event: ConfigMapSourceEvent): void {
    if (!this.stopped) this.handler?.(event);
  }
}
