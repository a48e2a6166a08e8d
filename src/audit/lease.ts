/**
 * One writer among replicas: a `coordination.k8s.io/v1` Lease, held by renewing it and taken over
 * only once its holder has not renewed for a whole lease duration, as client-go's leader election
 * does. Expiry is judged on our own clock from when we last saw the record change (never by
 * comparing our clock with the holder's), and every write carries the resourceVersion read, so two
 * replicas racing for an expired lease cannot both win: the API server refuses the second (409).
 */
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { firstLine, statusOf } from '../kube/errors.js';

export interface LeaseOptions {
  readonly api: CustomObjectsApi;
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica (pod name plus a random suffix). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly logger: Logger;
  /** Called when leadership starts or ends. */
  readonly onChange?: (leader: boolean) => void;
  readonly now?: () => number;
}

interface LeaseObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

const GROUP = 'coordination.k8s.io';
const VERSION = 'v1';
const PLURAL = 'leases';

/** RFC 3339 with microseconds, as the API server's MicroTime wants it. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderLease {
  private leader = false;
  private observed: { record: string; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastRenewedAt = 0;
  private readonly now: () => number;

  constructor(private readonly options: LeaseOptions) {
    this.now = options.now ?? Date.now;
  }

  isLeader(): boolean {
    // A leader that could not renew for a whole duration may already have been replaced.
    if (this.leader && this.now() - this.lastRenewedAt > this.options.leaseDurationMs) this.setLeader(false);
    return this.leader;
  }

  start(): void {
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      await this.tick();
      if (this.stopped) return;
      this.timer = setTimeout(() => void loop(), Math.max(200, Math.floor(this.options.leaseDurationMs / 3)));
      this.timer.unref?.();
    };
    void loop();
  }

  /** Stops renewing; a held lease is released so another replica takes over at once. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leader) return;
    this.setLeader(false);
    if (options.release === false) return;
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      await this.write({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.now()) } });
    } catch {
      // the lease simply expires
    }
  }

  /** One round: create, renew, take over an expired lease, or observe someone else's. */
  async tick(): Promise<void> {
    const now = this.now();
    try {
      const lease = await this.read();
      if (lease === undefined) {
        await this.options.api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.options.namespace, plural: PLURAL, body: this.fresh(now, 0) });
        return this.renewed(now);
      }
      const spec = lease.spec ?? {};
      const record = `${spec.holderIdentity ?? ''}\u0000${spec.renewTime ?? ''}`;
      if (this.observed?.record !== record) this.observed = { record, at: now };
      const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000 || this.options.leaseDurationMs;
      const mine = spec.holderIdentity === this.options.identity;
      const expired = !spec.holderIdentity || now - this.observed.at > durationMs;
      if (!mine && !expired) return this.setLeader(false);
      const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
      const body = mine
        ? { ...lease, spec: { ...spec, leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000), renewTime: microTime(now) } }
        : { ...lease, spec: this.fresh(now, transitions).spec };
      await this.write(body);
      if (!mine) this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}`, previous: spec.holderIdentity || undefined }, 'audit writer lease acquired');
      this.renewed(now);
    } catch (error) {
      const status = statusOf(error);
      // 409: someone else wrote first (a renewal or a takeover): not ours this round.
      if (status !== 409) this.options.logger.warn({ err: firstLine(error), lease: `${this.options.namespace}/${this.options.name}` }, 'audit writer lease not renewed');
      this.isLeader();
    }
  }

  private renewed(now: number): void {
    this.lastRenewedAt = now;
    this.setLeader(true);
  }

  private setLeader(value: boolean): void {
    if (this.leader === value) return;
    this.leader = value;
    this.options.onChange?.(value);
  }

  private fresh(now: number, transitions: number): LeaseObject {
    return {
      metadata: { name: this.options.name, namespace: this.options.namespace },
      spec: {
        holderIdentity: this.options.identity,
        leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: transitions,
      },
    };
  }

  private async read(): Promise<LeaseObject | undefined> {
    try {
      return (await this.options.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.options.namespace, plural: PLURAL, name: this.options.name })) as LeaseObject;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  private async write(lease: LeaseObject): Promise<void> {
    await this.options.api.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.options.namespace,
      plural: PLURAL,
      name: this.options.name,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Lease', ...lease },
    });
  }
}
