/** Flag value parsers: each refuses a bad value with a one-line reason (commander prints it). */
import { InvalidArgumentError } from 'commander';
import { isIP } from 'node:net';
import { formatV6, parseCidr as parseRange } from '../backend/rules/ip.js';

export function parseIntInRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

export const parsePort = parseIntInRange(1, 65535);
/** Port where 0 means "off". */
export const parsePortOrZero = parseIntInRange(0, 65535);

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1000, ki: 1024, m: 1_000_000, mi: 1024 ** 2, g: 1e9, gi: 1024 ** 3 };

/** Byte sizes as Kubernetes writes quantities: 7340032, 7Mi, 512Ki, 8M. */
export function parseByteSize(value: string): number {
  const m = /^\s*(\d+)\s*([kKmMgG]i?)?\s*$/.exec(value);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  const n = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < 1024 || n > 64 * 1024 ** 2) {
    throw new InvalidArgumentError('must be a size from 1Ki to 64Mi, e.g. 7Mi or 7340032');
  }
  return n;
}

/** A size from 1Ki to 1Gi (the admission memory budget: several bodies). */
export function parseMemorySize(value: string): number {
  const m = /^\s*(\d+)\s*([kKmMgG]i?)?\s*$/.exec(value);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  const n = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < 1024 || n > 1024 ** 3) {
    throw new InvalidArgumentError('must be a size from 1Ki to 1Gi, e.g. 28Mi');
  }
  return n;
}

/** A heap limit from 32Mi to 16Gi, in MiB (the audit worker's). */
export function parseHeapSize(value: string): number {
  const m = /^\s*(\d+)\s*([mMgG]i?)?\s*$/.exec(value);
  const unit = SIZE_UNITS[(m?.[2] ?? 'mi').toLowerCase()];
  const n = m && unit !== undefined ? Math.floor((Number(m[1]) * unit) / 1024 ** 2) : NaN;
  if (!Number.isSafeInteger(n) || n < 32 || n > 16 * 1024) {
    throw new InvalidArgumentError('must be a size from 32Mi to 16Gi, e.g. 512Mi');
  }
  return n;
}

/** A share of one core, from 0.05 to 1 (the audit's). */
export function parseCpuShare(value: string): number {
  const n = Number(value);
  if (!/^\s*\d*\.?\d+\s*$/.test(value) || !(n >= 0.05 && n <= 1)) throw new InvalidArgumentError('must be a share of one core from 0.05 to 1, e.g. 0.25');
  return n;
}

export function parseChoice<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`);
    return value as T;
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseDnsLabel(value: string): string {
  if (!DNS_LABEL.test(value)) throw new InvalidArgumentError('must be a lower-case DNS label (RFC 1123)');
  return value;
}

export function parseDnsSubdomain(value: string): string {
  if (!DNS_SUBDOMAIN.test(value)) throw new InvalidArgumentError('must be a lower-case DNS name (RFC 1123)');
  return value;
}

export function parseCidr(value: string): string {
  const [addr, bits, extra] = value.split('/');
  const family = addr ? isIP(addr) : 0;
  const max = family === 4 ? 32 : 128;
  const cidr = family && extra === undefined && bits !== undefined && /^\d{1,3}$/.test(bits) && Number(bits) <= max ? parseRange(value) : undefined;
  if (!cidr) throw new InvalidArgumentError('must be a CIDR such as 100.100.100.200/32 or fd00:ec2::254/128');
  // 10.0.0.1/8 is most likely a typo for a host or for 10.0.0.0/8: refuse it, naming the range.
  const network = networkOf(cidr.bytes, cidr.prefix);
  if (network.some((b, i) => b !== cidr.bytes[i])) {
    const text = `${family === 4 ? network.join('.') : formatV6(network)}/${cidr.prefix}`;
    throw new InvalidArgumentError(`has host bits set after the /${cidr.prefix} prefix: did you mean ${text}?`);
  }
  return value;
}

/** The address with every bit after `prefix` cleared. */
function networkOf(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & (0xff << (8 - keep)) & 0xff;
  });
}

export function parseMcpVersion(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !d || d.toISOString().slice(0, 10) !== value) throw new InvalidArgumentError('must be a real date YYYY-MM-DD');
  return value;
}

/**
 * Repeatable flag: each use appends. An environment variable arrives as one value, so it may hold a
 * comma-separated list. The default is dropped at the first explicit value.
 */
export function repeatable<T>(parse: (v: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(parse);
    return [...(previous ?? []), ...items];
  };
}

/** `--flag`, `--flag true|false`, or the env var set to true/false/1/0. */
export function parseBoolean(value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', ''].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new InvalidArgumentError('must be true or false');
}

const DURATION = /^(\d+)(ms|s|m|h)?$/;
const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `10m`, `90s`, `1h`, `500ms` (a bare number is seconds) to milliseconds; `0` is allowed (off). */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected a duration like 10m, 90s or 1h, got ${JSON.stringify(value)}`);
  return Number(match[1]) * DURATION_MS[(match[2] ?? 's') as keyof typeof DURATION_MS];
}
