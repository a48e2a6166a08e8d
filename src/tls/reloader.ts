/**
 * Keeps the serving certificate current without a restart. Watches the directories (Kubernetes
 * Secret volumes swap a `..data` symlink, so the files themselves are never written in place),
 * polls as a fallback (fs.watch misses events on some volume types), debounces bursts, and hands a
 * verified pair to `onReload` -- the server then calls `setSecureContext`, which leaves open
 * connections alone. A half-written or mismatched pair is refused and the old one stays in force.
 * Optionally renews a self-managed set in time, before anything expires.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { CertificateError, ensureServingCertificates, parseCertificatePair, type EnsureServingCertificatesOptions, type ServingCertificateSet } from './cert-files.js';

export interface ReloadedCertificate {
  cert: string;
  key: string;
  /** Contents of clientCaFile, when one is watched. */
  clientCa?: string;
  notAfter: Date;
  /** SHA-256 fingerprint of the serving leaf. */
  fingerprint: string;
}

export interface SelfManagedRenewal extends Omit<EnsureServingCertificatesOptions, 'now'> {
  /** How often to check for renewal (default 1 hour). */
  checkIntervalMs?: number;
  /** Called after a renewal wrote new files (e.g. to inject a rotated CA). */
  onRenewed?: (set: ServingCertificateSet) => void | Promise<void>;
}

export interface CertificateReloaderOptions {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
  onReload: (certificate: ReloadedCertificate) => void;
  logger?: Logger;
  metrics?: Metrics;
  /** Quiet time after the last file event before reading (default 200 ms). */
  debounceMs?: number;
  /** Fallback re-read interval (default 10 s); 0 disables polling. */
  pollIntervalMs?: number;
  selfManaged?: SelfManagedRenewal;
  now?: () => Date;
}

/** reloaded: a new pair is in force; unchanged: same files; rejected: bad pair, old one kept. */
export type ReloadOutcome = 'reloaded' | 'unchanged' | 'rejected';

const DEFAULT_DEBOUNCE_MS = 200;
const DEFAULT_POLL_INTERVAL_MS = 10_000;
const DEFAULT_RENEW_CHECK_MS = 60 * 60 * 1000;

export class CertificateReloader {
  private active: ReloadedCertificate | undefined;
  private lastRejected: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watchers: FSWatcher[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: CertificateReloaderOptions) {}

  /** The pair in force (undefined before start). */
  get current(): ReloadedCertificate | undefined {
    return this.active;
  }

  /**
   * Renews a self-managed set if needed, loads the pair (throws a CertificateError when it is
   * unusable: at start-up there is nothing older to fall back on), then starts watching.
   */
  async start(): Promise<ReloadedCertificate> {
    if (this.options.selfManaged) await this.ensureSelfManaged();
    const files = await this.readFiles();
    const loaded = this.verify(files);
    this.active = loaded;
    this.options.metrics?.certificateExpiry.set(loaded.notAfter.getTime() / 1000);
    this.options.metrics?.certificateLastReloadSuccessful.set(1);
    this.options.logger?.info({ certFile: this.options.certFile, notAfter: loaded.notAfter.toISOString(), fingerprint: loaded.fingerprint }, 'serving certificate loaded');
    this.startWatching();
    return loaded;
  }

  /** Re-reads the files now; serialised, so overlapping triggers never race. */
  reload(): Promise<ReloadOutcome> {
    const next = this.queue.then(() => this.reloadOnce());
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs the self-managed renewal check now (no-op without `selfManaged`). */
  async renewNow(): Promise<ServingCertificateSet | undefined> {
    if (!this.options.selfManaged) return undefined;
    const set = await this.ensureSelfManaged();
    if (set.action !== 'unchanged' && set.action !== 'external') {
      await this.reload();
      await this.options.selfManaged.onRenewed?.(set);
    }
    return set;
  }

  stop(): void {
    this.stopped = true;
    for (const watcher of this.watchers.splice(0)) watcher.close();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private async reloadOnce(): Promise<ReloadOutcome> {
    if (this.stopped) return 'unchanged';
    let files: Files;
    try {
      files = await this.readFiles();
    } catch (error) {
      return this.reject(`missing:${(error as Error).message}`, error);
    }
    const active = this.active;
    if (active && files.cert === active.cert && files.key === active.key && files.clientCa === active.clientCa) {
      // The files are the pair in force again (e.g. a bad write was undone): no longer failing.
      this.lastRejected = undefined;
      this.options.metrics?.certificateLastReloadSuccessful.set(1);
      return 'unchanged';
    }
    let loaded: ReloadedCertificate;
    try {
      loaded = this.verify(files);
    } catch (error) {
      return this.reject(`${files.cert}\0${files.key}\0${files.clientCa ?? ''}`, error);
    }
    try {
      this.options.onReload(loaded);
    } catch (error) {
      // e.g. setSecureContext refused the material: the old context is still in force.
      return this.reject(`${files.cert}\0${files.key}\0${files.clientCa ?? ''}`, error);
    }
    this.active = loaded;
    this.lastRejected = undefined;
    this.options.metrics?.certificateReloads.inc({ result: 'success' });
    this.options.metrics?.certificateLastReloadSuccessful.set(1);
    this.options.metrics?.certificateExpiry.set(loaded.notAfter.getTime() / 1000);
    const expired = loaded.notAfter.getTime() <= this.now().getTime();
    this.options.logger?.[expired ? 'warn' : 'info'](
      { certFile: this.options.certFile, notAfter: loaded.notAfter.toISOString(), fingerprint: loaded.fingerprint, previous: active?.fingerprint },
      expired ? 'serving certificate reloaded, but it has expired' : 'serving certificate reloaded',
    );
    return 'reloaded';
  }

  /** Counts and logs a bad state once, however often the poll finds it again. */
  private reject(signature: string, error: unknown): ReloadOutcome {
    this.options.metrics?.certificateLastReloadSuccessful.set(0);
    if (signature !== this.lastRejected) {
      this.lastRejected = signature;
      this.options.metrics?.certificateReloads.inc({ result: 'error' });
      const code = error instanceof CertificateError ? error.code : 'RELOAD_FAILED';
      this.options.logger?.error({ code, err: (error as Error).message, certFile: this.options.certFile }, 'serving certificate not reloaded; keeping the previous one');
    }
    return 'rejected';
  }

  private verify(files: Files): ReloadedCertificate {
    const pair = parseCertificatePair(files.cert, files.key, { certFile: this.options.certFile, keyFile: this.options.keyFile });
    if (files.clientCa !== undefined && !/-----BEGIN CERTIFICATE-----/.test(files.clientCa)) {
      throw new CertificateError('BAD_CERTIFICATE', `no PEM certificate in ${this.options.clientCaFile}`, this.options.clientCaFile);
    }
    return {
      cert: files.cert,
      key: files.key,
      ...(files.clientCa !== undefined ? { clientCa: files.clientCa } : {}),
      notAfter: pair.notAfter,
      fingerprint: pair.fingerprint,
    };
  }

  private async readFiles(): Promise<Files> {
    const read = async (file: string): Promise<string> => {
      try {
        return await readFile(file, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'MISSING_FILE' : 'UNREADABLE_FILE';
        throw new CertificateError(code, `cannot read ${file}: ${(error as Error).message}`, file);
      }
    };
    const [cert, key, clientCa] = await Promise.all([
      read(this.options.certFile),
      read(this.options.keyFile),
      this.options.clientCaFile === undefined ? undefined : read(this.options.clientCaFile),
    ]);
    return { cert, key, ...(clientCa !== undefined ? { clientCa } : {}) };
  }

  private async ensureSelfManaged(): Promise<ServingCertificateSet> {
    const { checkIntervalMs: _interval, onRenewed: _onRenewed, ...ensure } = this.options.selfManaged!;
    const set = await ensureServingCertificates({ ...ensure, now: this.now() });
    if (set.action !== 'unchanged') {
      this.options.logger?.info(
        { action: set.action, reasons: set.reasons, certNotAfter: set.certNotAfter.toISOString(), caNotAfter: set.caNotAfter?.toISOString() },
        'self-managed certificates checked',
      );
    }
    return set;
  }

  private startWatching(): void {
    const directories = new Set([this.options.certFile, this.options.keyFile, ...(this.options.clientCaFile ? [this.options.clientCaFile] : [])].map((file) => dirname(file)));
    for (const directory of directories) {
      try {
        const watcher = watch(directory, { persistent: false }, () => this.scheduleReload());
        watcher.on('error', (error) => {
          // The directory itself went away or the platform gave up: polling still covers us.
          this.options.logger?.warn({ directory, err: error.message }, 'certificate directory watch failed; relying on polling');
          watcher.close();
        });
        this.watchers.push(watcher);
      } catch (error) {
        this.options.logger?.warn({ directory, err: (error as Error).message }, 'cannot watch certificate directory; relying on polling');
      }
    }
    const poll = this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (poll > 0) this.every(poll, () => this.reload());
    if (this.options.selfManaged) {
      this.every(this.options.selfManaged.checkIntervalMs ?? DEFAULT_RENEW_CHECK_MS, () =>
        this.renewNow().catch((error: Error) => this.options.logger?.error({ err: error.message }, 'certificate renewal failed; will retry')),
      );
    }
  }

  private scheduleReload(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload();
    }, this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    this.debounce.unref();
  }

  private every(intervalMs: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      if (!this.stopped) void task();
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}

interface Files {
  cert: string;
  key: string;
  clientCa?: string;
}
