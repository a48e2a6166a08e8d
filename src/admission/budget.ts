/**
 * The admission memory budget: bytes of request bodies being read or judged at once. Each request
 * reserves its declared Content-Length before a byte is read (growing the reservation as chunks
 * arrive when no length is declared) and gives it back once answered. A request that does not fit
 * waits, first come first served, at most `maxWaitMs`; then it is refused in-band (code 429) and
 * its body is drained, not kept. Small bodies may use the whole budget, large ones all but a
 * reserve, so a few huge uploads cannot lock out ordinary admissions.
 */

/** Bodies up to this size may use the reserve. */
export const SMALL_BODY_BYTES = 64 * 1024;
/** How long a request may wait for room before it is refused. */
export const DEFAULT_BUDGET_WAIT_MS = 2000;

export interface MemoryBudgetOptions {
  /** Total bytes of bodies in flight. */
  readonly bytes: number;
  /** The largest body accepted (--body-limit): it must always fit in an empty budget. */
  readonly bodyLimit: number;
  readonly maxWaitMs?: number;
}

interface Waiter {
  readonly bytes: number;
  readonly grant: (granted: boolean) => void;
  timer?: NodeJS.Timeout;
}

export class MemoryBudget {
  readonly capacity: number;
  /** Large bodies stop at capacity - reserve. */
  private readonly largeCapacity: number;
  private readonly maxWaitMs: number;
  private used = 0;
  private readonly waiters: Waiter[] = [];

  constructor(options: MemoryBudgetOptions) {
    if (!(options.bytes >= options.bodyLimit)) throw new RangeError(`the admission memory budget (${options.bytes} bytes) must be at least the body limit (${options.bodyLimit} bytes)`);
    this.capacity = options.bytes;
    // A quarter is kept for small bodies, as long as the largest body still fits beside it.
    this.largeCapacity = Math.max(options.bodyLimit, options.bytes - Math.floor(options.bytes / 4));
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_BUDGET_WAIT_MS;
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /** Requests waiting for room now. */
  get waiting(): number {
    return this.waiters.length;
  }

  private fits(bytes: number): boolean {
    return this.used + bytes <= (bytes <= SMALL_BODY_BYTES ? this.capacity : this.largeCapacity);
  }

  /** Reserves `bytes` now if they fit and (for a large body) nobody waits before it. */
  tryReserve(bytes: number): boolean {
    if ((this.waiters.length > 0 && bytes > SMALL_BODY_BYTES) || !this.fits(bytes)) return false;
    this.used += bytes;
    return true;
  }

  /**
   * Reserves `bytes`, waiting at most maxWaitMs (and never past `deadline`, epoch ms): `granted`
   * says whether it got them. Synchronous when there is room.
   */
  reserve(bytes: number, deadline: number, callback: (granted: boolean) => void): void {
    if (this.tryReserve(bytes)) return callback(true);
    const waitMs = Math.min(this.maxWaitMs, deadline - Date.now());
    if (waitMs <= 0 || bytes > this.largeCapacity) return callback(false);
    const waiter: Waiter = { bytes, grant: callback };
    waiter.timer = setTimeout(() => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
      callback(false);
      this.drain(); // the one that gave up may have blocked smaller ones behind it
    }, waitMs);
    this.waiters.push(waiter);
  }

  /** Grows a reservation by `bytes` (bodies without Content-Length); false when it does not fit. */
  grow(bytes: number): boolean {
    return this.tryReserve(bytes);
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.drain();
  }

  /** Grants every waiter that fits now, oldest first. */
  private drain(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      if (!this.fits(waiter.bytes)) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      clearTimeout(waiter.timer);
      this.used += waiter.bytes;
      waiter.grant(true);
    }
  }
}

/** The default budget: four of the largest bodies. */
export const defaultMemoryBudget = (bodyLimit: number): number => 4 * bodyLimit;
