/**
 * Destination IP addresses: canonical text only, and no address an egress gateway must never be
 * pointed at (loopback, link-local incl. the cloud metadata address, multicast, ...).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { IPV4_EMBEDDING_RANGES, MAPPED_LABEL, REFUSED_RANGES } from './data.js';

type Bytes = readonly number[];

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const CANONICAL_V4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

function parseV4(text: string): Bytes | undefined {
  if (!CANONICAL_V4.test(text)) return undefined;
  return text.split('.').map(Number);
}

/** Any valid IPv6 text (an embedded dotted IPv4 tail included) as 16 bytes; no zone ids. */
function parseV6(text: string): Bytes | undefined {
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [((v4[0]! << 8) | v4[1]!), ((v4[2]! << 8) | v4[3]!)];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let words: number[];
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = groups(head.slice(0, gap));
    const right = [...groups(head.slice(gap + 2)), ...tail];
    words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    words = [...groups(head), ...tail];
  }
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) return undefined;
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

const isMappedV4 = (b: Bytes): boolean => b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** RFC 5952 text: lower case, no leading zeros, the longest zero run (first on a tie, 2+ groups) as `::`. */
export function formatV6(b: Bytes): string {
  if (isMappedV4(b)) return `::ffff:${b.slice(12).join('.')}`;
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Bytes;
  readonly prefix: number;
  readonly text: string;
  readonly label?: string;
}

/** Parses `a.b.c.d/n` or `x::/n` (any valid address text); undefined when malformed. */
export function parseCidr(text: string, label?: string): Cidr | undefined {
  const m = /^([^/]+)\/(0|[1-9][0-9]{0,2})$/.exec(text.trim());
  if (!m) return undefined;
  const prefix = Number(m[2]);
  const addr = m[1]!;
  if (isIPv4(addr)) {
    const bytes = parseV4(addr);
    return bytes && prefix <= 32 ? { family: 4, bytes, prefix, text, label } : undefined;
  }
  const bytes = parseV6(addr);
  return bytes && prefix <= 128 ? { family: 6, bytes, prefix, text, label } : undefined;
}

/** Whether `bytes` (4 or 16) lies inside `cidr`; families never mix. */
export function contains(cidr: Cidr, bytes: Bytes): boolean {
  if (cidr.bytes.length !== bytes.length) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((cidr.bytes[bit >> 3]! & mask) !== (bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

const BUILT_IN: readonly Cidr[] = REFUSED_RANGES.map(([text, label]) => parseCidr(text, label)!);

/** IPv6 ranges that carry an IPv4 address, compiled, with where the IPv4 bytes start. */
const EMBEDDING: ReadonlyArray<{ range: Cidr; offset: number }> = IPV4_EMBEDDING_RANGES.map(([text, label, offset]) => ({ range: parseCidr(text, label)!, offset }));

/**
 * The IPv4 address an IPv6 address carries, when it lies in one of the ranges that embed one
 * (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`, ...): the packet reaches that IPv4 host, so it is judged as that host too.
 */
export function embeddedIPv4(bytes: Bytes): { bytes: Bytes; label: string } | undefined {
  if (bytes.length !== 16) return undefined;
  for (const { range, offset } of EMBEDDING) {
    if (contains(range, bytes)) return { bytes: bytes.slice(offset, offset + 4), label: range.label ?? range.text };
  }
  return undefined;
}

const HEX_DIGIT = /^[0-9a-fA-F]$/;

/** One part as C's strtoul(base 0) reads it after inet_aton checked it starts with a digit; undefined on trailing junk. */
function atonPart(part: string): number | undefined {
  if (part === '' || part.charCodeAt(0) < 48 || part.charCodeAt(0) > 57) return undefined;
  let value = 0;
  if (part.length > 1 && part[0] === '0' && (part[1] === 'x' || part[1] === 'X')) {
    // "0x" alone: strtoul reads the 0 and stops at the x, which inet_aton then refuses as junk.
    if (part.length === 2) return undefined;
    for (let i = 2; i < part.length; i++) {
      if (!HEX_DIGIT.test(part[i]!)) return undefined;
      value = value * 16 + parseInt(part[i]!, 16);
      if (value > 0xffffffff) return undefined;
    }
    return value;
  }
  const base = part[0] === '0' ? 8 : 10;
  for (let i = 0; i < part.length; i++) {
    const d = part.charCodeAt(i) - 48;
    if (d < 0 || d >= base) return undefined;
    value = value * base + d;
    if (value > 0xffffffff) return undefined;
  }
  return value;
}

/**
 * The IPv4 address `text` stands for when read the way `inet_aton` (and so glibc's and musl's
 * `getaddrinfo`, before any DNS query) reads it: one to four parts, each decimal, octal (leading
 * 0) or hexadecimal (0x), the last part filling the remaining bytes (`127.1`, `2852039166`,
 * `0x7f.1`, `169.254.169.0xfe`). Undefined when a resolver would not take it as an address.
 * Trailing text is not accepted (glibc's getaddrinfo uses the exact variant since 2.28).
 */
export function parseInetAton(text: string): Bytes | undefined {
  const n = text.length;
  if (n === 0) return undefined;
  const c0 = text.charCodeAt(0);
  if (c0 < 48 || c0 > 57) return undefined; // the cheap exit every ordinary hostname takes
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    const v = atonPart(part);
    if (v === undefined) return undefined;
    values.push(v);
  }
  const last = values.length - 1;
  for (let i = 0; i < last; i++) if (values[i]! > 0xff) return undefined;
  const room = 4 - last; // bytes the last part fills
  const lastValue = values[last]!;
  if (lastValue >= 2 ** (8 * room)) return undefined;
  const bytes = values.slice(0, last);
  for (let i = room - 1; i >= 0; i--) bytes.push(Math.floor(lastValue / 2 ** (8 * i)) % 256);
  return bytes;
}

/** `a.b.c.d` text of 4 bytes. */
export const formatV4 = (b: Bytes): string => b.join('.');

/** Compiled extra ranges per options array: options live for the server's lifetime. */
const extraCache = new WeakMap<readonly string[], readonly Cidr[]>();

function extraRanges(extra: readonly string[]): readonly Cidr[] {
  let compiled = extraCache.get(extra);
  if (!compiled) {
    // Malformed entries are the flag parser's to refuse; here they can only be skipped.
    compiled = extra.flatMap((text) => (typeof text === 'string' ? parseCidr(text, 'refused by configuration') ?? [] : []));
    extraCache.set(extra, compiled);
  }
  return compiled;
}

/** Why `bytes` (4 or 16) is refused, or undefined: the first refused range it (or the IPv4 address it embeds) lies in. */
function refusedRangeProblem(bytes: Bytes, extraDeniedCidrs: readonly string[]): string | undefined {
  const extra = extraRanges(extraDeniedCidrs);
  const hitOf = (candidate: Bytes): Cidr | undefined => BUILT_IN.find((r) => contains(r, candidate)) ?? extra.find((r) => contains(r, candidate));
  const direct = hitOf(bytes);
  if (direct) return `is in the refused range ${direct.text} (${direct.label ?? 'refused'})`;
  const embedded = embeddedIPv4(bytes);
  if (!embedded) return undefined;
  const hit = hitOf(embedded.bytes);
  if (!hit) return undefined;
  // IPv4-mapped addresses read as what they are; the other embeddings say how the address hides.
  if (embedded.label === MAPPED_LABEL) return `is in the refused range ${hit.text} (${hit.label ?? 'refused'})`;
  return `embeds ${formatV4(embedded.bytes)} (${embedded.label}), in the refused range ${hit.text} (${hit.label ?? 'refused'})`;
}

/** For text that is no address at all: what it looks like, and where it belongs. */
function notAnAddressProblem(text: string): string {
  const where = 'put the host in fqdn.hostname (type Fqdn) and the port in ports[].number';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) return `must be an IP address, not a URL: ${where}`;
  const hostPort = /^(?:\[([^\]]*)\]|([^:]*)):([0-9]{1,5})$/.exec(text);
  if (hostPort) {
    const host = hostPort[1] ?? hostPort[2] ?? '';
    if (isIPv4(host) || isIPv6(host)) return `must be an IP address without a port: write ${host} here and the port in ports[].number`;
    return `must be an IP address, not a host:port: ${where}`;
  }
  if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/i.test(text) && /[a-z]/i.test(text)) {
    return 'must be an IP address, not a DNS name: use type Fqdn with fqdn.hostname';
  }
  return 'must be a valid IPv4 or IPv6 address';
}

/** Why `text` is not an acceptable destination address, or undefined. */
export function ipAddressProblem(text: string, extraDeniedCidrs: readonly string[]): string | undefined {
  const v4 = parseV4(text);
  if (v4) return refusedRangeProblem(v4, extraDeniedCidrs);
  const v6 = parseV6(text);
  if (v6) {
    // A refused address says so first, whatever its spelling.
    const refused = refusedRangeProblem(v6, extraDeniedCidrs);
    if (refused) return refused;
    const canonical = formatV6(v6);
    return canonical === text ? undefined : `must be in canonical form: ${canonical}`;
  }
  const loose = parseInetAton(text);
  if (loose) {
    const refused = refusedRangeProblem(loose, extraDeniedCidrs);
    return `must be a canonical IPv4 address: ${JSON.stringify(text)} is read as ${formatV4(loose)}${refused ? `, which ${refused}` : ''}`;
  }
  const dotted = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(text);
  if (dotted && text.split('.').every((o) => Number(o) <= 255)) return 'must be a canonical IPv4 address (no leading zeros)';
  return notAnAddressProblem(text);
}
