/**
 * An in-process stand-in for the Kubernetes API server, enough for client-node's typed clients and
 * informers: list (with labelSelector/fieldSelector), watch (chunked JSON lines from a
 * resourceVersion, synthetic ADDED for a fresh watch, BOOKMARK on demand, 410 Gone as an ERROR event
 * or as HTTP 410), get, create, replace (PUT), JSON/merge patch and delete, for namespaced and
 * cluster-scoped resources. Test hooks: drop or close open watches, expire history, refuse requests.
 *
 * Plain HTTP on 127.0.0.1:0; writeKubeconfig() points a KubeConfig at it.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import jsonPatch from 'fast-json-patch';
import { type LabelRequirement, matchesLabels, parseLabelSelector } from '../../src/schemas/label-selector.js';

export interface ResourceType {
  readonly group: string; // '' for the core group
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export const CONFIGMAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
export const VALIDATING_WEBHOOKS: ResourceType = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: 'validatingwebhookconfigurations',
  kind: 'ValidatingWebhookConfiguration',
  namespaced: false,
};
export const MUTATING_WEBHOOKS: ResourceType = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: 'mutatingwebhookconfigurations',
  kind: 'MutatingWebhookConfiguration',
  namespaced: false,
};

/** `configmaps`, `validatingwebhookconfigurations.admissionregistration.k8s.io`: kubectl's resource names. */
export const resourceKey = (rt: ResourceType): string => (rt.group ? `${rt.plural}.${rt.group}` : rt.plural);

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; creationTimestamp?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEntry {
  readonly rv: number;
  readonly resource: string;
  readonly type: WatchEventType;
  readonly object: KubeObject;
  readonly previous?: KubeObject;
}

interface OpenWatch {
  readonly resource: string;
  readonly namespace?: string;
  readonly labels: LabelRequirement[];
  readonly fields: Array<[string, string]>;
  readonly res: ServerResponse;
  readonly socket: Socket;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly watch: boolean;
}

export interface FailureRule {
  /** Which requests fail; all when omitted. */
  readonly match?: (r: RequestRecord) => boolean;
  readonly status: number;
  /** How many matching requests fail; forever when omitted. */
  times?: number;
}

const clone = <T>(v: T): T => structuredClone(v);

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 404: 'NotFound', 409: 'Conflict', 410: 'Expired', 415: 'UnsupportedMediaType', 500: 'InternalError', 503: 'ServiceUnavailable' };

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function fieldValue(obj: KubeObject, field: string): string | undefined {
  let cur: unknown = obj;
  for (const part of field.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  return typeof cur === 'string' ? cur : undefined;
}

export class FakeApiServer {
  private readonly types = new Map<string, ResourceType>();
  /** resource key -> "namespace/name" -> object */
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly history: HistoryEntry[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private failures: FailureRule[] = [];
  private rv = 100;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private oldestRv = 0;
  private goneAs: 'event' | 'http' = 'event';
  /** Watch requests still to be answered 410 Gone whatever their resourceVersion. */
  private forcedGone: { as: 'event' | 'http'; times: number } | undefined;
  readonly requests: RequestRecord[] = [];

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(resources: readonly ResourceType[] = [CONFIGMAPS, SECRETS, VALIDATING_WEBHOOKS, MUTATING_WEBHOOKS]): Promise<FakeApiServer> {
    let self: FakeApiServer | undefined;
    const server = http.createServer((req, res) => self!.handle(req, res));
    server.on('connection', (s: Socket) => {
      self?.sockets.add(s);
      s.on('close', () => self?.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new FakeApiServer(server, `http://127.0.0.1:${port}`);
    for (const rt of resources) self.addResource(rt);
    return self;
  }

  addResource(rt: ResourceType): void {
    this.types.set(resourceKey(rt), rt);
    if (!this.store.has(resourceKey(rt))) this.store.set(resourceKey(rt), new Map());
  }

  /** Stops serving a resource type (a CRD deleted): its paths answer 404 from now on. */
  removeResource(rt: ResourceType): void {
    this.types.delete(resourceKey(rt));
    this.store.delete(resourceKey(rt));
    this.closeWatches();
  }

  /** Writes a kubeconfig for this server into dir and returns its path. */
  writeKubeconfig(dir: string, fileName = 'kubeconfig.yaml'): string {
    const file = path.join(dir, fileName);
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: fake',
        '  cluster:',
        `    server: ${this.url}`,
        '    insecure-skip-tls-verify: true', // client-node refuses plain http without it
        'users:',
        '- name: fake',
        '  user:',
        '    token: fake-token',
        'contexts:',
        '- name: fake',
        '  context: {cluster: fake, user: fake}',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.watches.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  // ---- object helpers (what `kubectl` would do) ----

  create(resource: string | ResourceType, obj: KubeObject): KubeObject {
    const rt = this.type(resource);
    const key = this.objectKey(rt, obj.metadata.namespace, obj.metadata.name);
    const objects = this.store.get(resourceKey(rt))!;
    if (objects.has(key)) throw Object.assign(new Error(`${key} already exists`), { code: 409 });
    const stored = clone(obj);
    stored.apiVersion ??= rt.group ? `${rt.group}/${rt.version}` : rt.version;
    stored.kind ??= rt.kind;
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    stored.metadata.resourceVersion = String(++this.rv);
    objects.set(key, stored);
    this.record(resourceKey(rt), 'ADDED', stored);
    return clone(stored);
  }

  /** Replaces an existing object (keeps uid and creationTimestamp), bumping resourceVersion. */
  update(resource: string | ResourceType, obj: KubeObject): KubeObject {
    const rt = this.type(resource);
    const key = this.objectKey(rt, obj.metadata.namespace, obj.metadata.name);
    const objects = this.store.get(resourceKey(rt))!;
    const previous = objects.get(key);
    if (!previous) throw Object.assign(new Error(`${key} not found`), { code: 404 });
    const stored = clone(obj);
    stored.apiVersion ??= previous.apiVersion;
    stored.kind ??= previous.kind;
    stored.metadata.uid = previous.metadata.uid;
    stored.metadata.creationTimestamp = previous.metadata.creationTimestamp;
    stored.metadata.resourceVersion = String(++this.rv);
    objects.set(key, stored);
    this.record(resourceKey(rt), 'MODIFIED', stored, previous);
    return clone(stored);
  }

  delete(resource: string | ResourceType, namespace: string | undefined, name: string): KubeObject {
    const rt = this.type(resource);
    const key = this.objectKey(rt, namespace, name);
    const objects = this.store.get(resourceKey(rt))!;
    const previous = objects.get(key);
    if (!previous) throw Object.assign(new Error(`${key} not found`), { code: 404 });
    objects.delete(key);
    const gone = clone(previous);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record(resourceKey(rt), 'DELETED', gone, previous);
    return clone(gone);
  }

  get(resource: string | ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const rt = this.type(resource);
    const obj = this.store.get(resourceKey(rt))!.get(this.objectKey(rt, namespace, name));
    return obj && clone(obj);
  }

  list(resource: string | ResourceType, namespace?: string): KubeObject[] {
    const rt = this.type(resource);
    return [...this.store.get(resourceKey(rt))!.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace).map(clone);
  }

  // ---- fault injection ----

  /** Sends a BOOKMARK with the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const w of this.watches) {
      const rt = this.types.get(w.resource)!;
      this.send(w, { type: 'BOOKMARK', object: { kind: rt.kind, apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version, metadata: { resourceVersion: String(this.rv) } } });
    }
  }

  /**
   * Forgets history up to now: watches resuming from an older resourceVersion get 410 Gone, answered
   * as an ERROR event in a 200 stream (what the real server does) or as HTTP 410.
   */
  compact(goneAs: 'event' | 'http' = 'event'): void {
    this.oldestRv = this.rv + 1;
    this.goneAs = goneAs;
    this.history.length = 0;
  }

  /** Ends every open watch with an ERROR 410 event (the client must re-list), and compacts history. */
  expireWatches(): void {
    this.compact('event');
    for (const w of [...this.watches]) {
      this.send(w, { type: 'ERROR', object: status(410, 'Expired', 'too old resource version') });
      this.watches.delete(w);
      w.res.end();
    }
  }

  /** Answers the next `times` watch requests that carry a resourceVersion with 410 Gone. */
  expireNextWatches(as: 'event' | 'http', times = 1): void {
    this.forcedGone = { as, times };
  }

  /** Ends every open watch cleanly (as the API server does at its watch timeout). */
  closeWatches(): void {
    for (const w of [...this.watches]) {
      this.watches.delete(w);
      w.res.end();
    }
  }

  /** Kills the TCP connection of every open watch mid-stream. */
  /**
   * Keeps the open watches connected but sends them nothing more: a connection that died without a
   * FIN or RST (a NAT or load balancer forgot it). Only a client-side resync notices.
   */
  silenceWatches(): void {
    for (const w of [...this.watches]) this.watches.delete(w);
  }

  dropWatches(): void {
    for (const w of [...this.watches]) {
      this.watches.delete(w);
      w.socket.destroy();
    }
  }

  /** Fails matching requests with `status` (e.g. 503 for all; 500 for the next 2 lists). */
  failRequests(rule: FailureRule): void {
    this.failures.push({ ...rule });
  }

  clearFailures(): void {
    this.failures = [];
  }

  get openWatchCount(): number {
    return this.watches.size;
  }

  countRequests(pred: (r: RequestRecord) => boolean): number {
    return this.requests.filter(pred).length;
  }

  // ---- HTTP ----

  private type(resource: string | ResourceType): ResourceType {
    const key = typeof resource === 'string' ? resource : resourceKey(resource);
    const rt = this.types.get(key);
    if (!rt) throw new Error(`unknown resource ${key}`);
    return rt;
  }

  private objectKey(rt: ResourceType, namespace: string | undefined, name: string): string {
    if (rt.namespaced && !namespace) throw Object.assign(new Error(`${rt.plural} are namespaced: namespace required`), { code: 400 });
    return rt.namespaced ? `${namespace}/${name}` : name;
  }

  private record(resource: string, type: WatchEventType, object: KubeObject, previous?: KubeObject): void {
    const entry: HistoryEntry = { rv: this.rv, resource, type, object: clone(object), ...(previous ? { previous: clone(previous) } : {}) };
    this.history.push(entry);
    for (const w of this.watches) this.deliver(w, entry);
  }

  private matches(w: Pick<OpenWatch, 'namespace' | 'labels' | 'fields'>, obj: KubeObject | undefined): boolean {
    if (!obj) return false;
    if (w.namespace !== undefined && obj.metadata.namespace !== w.namespace) return false;
    if (!matchesLabels(w.labels, obj.metadata.labels)) return false;
    return w.fields.every(([f, v]) => fieldValue(obj, f) === v);
  }

  /** Translates an event through the watch's selector, as the API server does. */
  private deliver(w: OpenWatch, e: HistoryEntry): void {
    if (e.resource !== w.resource) return;
    const now = e.type !== 'DELETED' && this.matches(w, e.object);
    const before = this.matches(w, e.previous);
    let type: WatchEventType | undefined;
    if (e.type === 'DELETED') type = before ? 'DELETED' : undefined;
    else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    if (type) this.send(w, { type, object: e.object });
  }

  private send(w: OpenWatch, event: unknown): void {
    if (!w.res.writableEnded && !w.socket.destroyed) w.res.write(`${JSON.stringify(event)}\n`);
  }

  private reply(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private fail(res: ServerResponse, code: number, message: string): void {
    this.reply(res, code, status(code, REASONS[code] ?? 'Unknown', message));
  }

  /** /api/v1[/namespaces/{ns}]/{plural}[/{name}] and /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}] */
  private route(pathname: string): { rt: ResourceType; namespace?: string; name?: string } | undefined {
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api') [group, version, rest] = ['', parts[1] ?? '', parts.slice(2)];
    else if (parts[0] === 'apis') [group, version, rest] = [parts[1] ?? '', parts[2] ?? '', parts.slice(3)];
    else return undefined;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, ...extra] = rest;
    if (!plural || extra.length > 0) return undefined;
    const rt = this.types.get(group ? `${plural}.${group}` : plural);
    if (!rt || rt.version !== version) return undefined;
    if (!rt.namespaced && namespace !== undefined) return undefined;
    return { rt, ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }) };
  }

  private async body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.handleAsync(req, res).catch((err: Error & { code?: unknown }) => {
      if (res.headersSent) return void res.destroy();
      const code = typeof err.code === 'number' ? err.code : 500;
      this.fail(res, code, err.message);
    });
  }

  private async handleAsync(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const query = Object.fromEntries(url.searchParams);
    const isWatch = query.watch === 'true' || query.watch === '1';
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query, watch: isWatch };
    this.requests.push(record);

    const rule = this.failures.find((f) => (f.match ? f.match(record) : true) && (f.times === undefined || f.times > 0));
    if (rule) {
      if (rule.times !== undefined) rule.times--;
      return this.fail(res, rule.status, 'injected failure');
    }

    const route = this.route(url.pathname);
    if (!route) return this.fail(res, 404, `the server could not find the requested resource (${url.pathname})`);
    const { rt, namespace, name } = route;
    const resource = resourceKey(rt);
    let labels: LabelRequirement[];
    try {
      labels = parseLabelSelector(query.labelSelector ?? '');
    } catch (err) {
      return this.fail(res, 400, (err as Error).message);
    }
    const fields = (query.fieldSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((t) => t.split('=').filter(Boolean) as [string, string]);

    switch (req.method) {
      case 'GET': {
        if (name !== undefined) {
          const obj = this.get(rt, namespace, name);
          return obj ? this.reply(res, 200, obj) : this.fail(res, 404, `${rt.plural} "${name}" not found`);
        }
        if (isWatch) return this.watch(req, res, { resource, ...(namespace === undefined ? {} : { namespace }), labels, fields }, query.resourceVersion);
        const items = this.list(rt, namespace).filter((o) => this.matches({ labels, fields }, o));
        return this.reply(res, 200, {
          kind: `${rt.kind}List`,
          apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version,
          metadata: { resourceVersion: String(this.rv) },
          items,
        });
      }
      case 'POST': {
        const obj = (await this.body(req)) as KubeObject;
        if (namespace !== undefined) obj.metadata.namespace = namespace;
        return this.reply(res, 201, this.create(rt, obj));
      }
      case 'PUT': {
        if (name === undefined) return this.fail(res, 405, 'PUT needs a name');
        const obj = (await this.body(req)) as KubeObject;
        if (namespace !== undefined) obj.metadata.namespace = namespace;
        const current = this.get(rt, namespace, name);
        if (!current) return this.fail(res, 404, `${rt.plural} "${name}" not found`);
        if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
          return this.fail(res, 409, `Operation cannot be fulfilled on ${rt.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
        }
        return this.reply(res, 200, this.update(rt, obj));
      }
      case 'PATCH': {
        if (name === undefined) return this.fail(res, 405, 'PATCH needs a name');
        const current = this.get(rt, namespace, name);
        if (!current) return this.fail(res, 404, `${rt.plural} "${name}" not found`);
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const patch = await this.body(req);
        let next: KubeObject;
        if (contentType === 'application/json-patch+json') {
          try {
            next = jsonPatch.applyPatch(current, patch as jsonPatch.Operation[], true, false).newDocument;
          } catch (err) {
            return this.fail(res, 422, `json patch failed: ${(err as Error).message}`);
          }
        } else if (contentType === 'application/merge-patch+json' || contentType === 'application/strategic-merge-patch+json') {
          next = mergePatch(current, patch) as KubeObject;
        } else {
          return this.fail(res, 415, `unsupported patch type ${contentType}`);
        }
        next.metadata.name = name;
        if (namespace !== undefined) next.metadata.namespace = namespace;
        return this.reply(res, 200, this.update(rt, next));
      }
      case 'DELETE': {
        if (name === undefined) return this.fail(res, 405, 'DELETE needs a name');
        if (!this.get(rt, namespace, name)) return this.fail(res, 404, `${rt.plural} "${name}" not found`);
        return this.reply(res, 200, this.delete(rt, namespace, name));
      }
      default:
        return this.fail(res, 405, `method ${req.method} not allowed`);
    }
  }

  private watch(req: IncomingMessage, res: ServerResponse, spec: Omit<OpenWatch, 'res' | 'socket'>, fromRv: string | undefined): void {
    const from = fromRv === undefined || fromRv === '' || fromRv === '0' ? undefined : Number(fromRv);
    let goneAs = this.goneAs;
    let forced = false;
    if (from !== undefined && this.forcedGone && this.forcedGone.times > 0) {
      forced = true;
      goneAs = this.forcedGone.as;
      this.forcedGone.times--;
    }
    if (from !== undefined && (forced || Number.isNaN(from) || from < this.oldestRv - 1)) {
      if (goneAs === 'http') return this.fail(res, 410, `too old resource version: ${fromRv}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${fromRv} (${this.oldestRv})`) })}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: OpenWatch = { ...spec, res, socket: req.socket };
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
    if (from === undefined) {
      // A watch without resourceVersion starts with the current state as ADDED events.
      for (const obj of this.list(this.type(spec.resource), spec.namespace)) if (this.matches(w, obj)) this.send(w, { type: 'ADDED', object: obj });
    } else {
      for (const e of this.history) if (e.rv > from) this.deliver(w, e);
    }
  }
}
