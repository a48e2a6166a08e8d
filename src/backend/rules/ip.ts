/**
 * Destination IP addresses: canonical text only, and no address an egress gateway must never be
 * pointed at (loopback, link-local incl. the cloud metadata address, multicast, ...).
 */
import { isIPv4, isIPv6 } from 'node:net';

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

const BUILT_IN: readonly Cidr[] = (
  [
    ['0.0.0.0/8', '"this network"'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local, incl. the cloud metadata address'],
    ['224.0.0.0/4', 'multicast'],
    ['255.255.255.255/32', 'broadcast'],
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['fe80::/10', 'link-local'],
    ['ff00::/8', 'multicast'],
  ] as const
).map(([text, label]) => parseCidr(text, label)!);

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

/** Why `text` is not an acceptable destination address, or undefined. */
export function ipAddressProblem(text: string, extraDeniedCidrs: readonly string[]): string | undefined {
  let bytes = parseV4(text);
  if (!bytes) {
    const dotted = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(text);
    if (dotted && text.split('.').every((o) => Number(o) <= 255)) return 'must be a canonical IPv4 address (no leading zeros)';
    const v6 = parseV6(text);
    if (!v6) return 'must be a valid IPv4 or IPv6 address';
    const canonical = formatV6(v6);
    if (canonical !== text) return `must be in canonical form: ${canonical}`;
    bytes = v6;
  }
  const ranges = [...BUILT_IN, ...extraRanges(extraDeniedCidrs)];
  // ::ffff:a.b.c.d reaches the IPv4 host: judge it as that host too.
  const candidates = bytes.length === 16 && isMappedV4(bytes) ? [bytes, bytes.slice(12)] : [bytes];
  for (const candidate of candidates) {
    const hit = ranges.find((r) => contains(r, candidate));
    if (hit) return `is in the refused range ${hit.text} (${hit.label ?? 'refused'})`;
  }
  return undefined;
}
