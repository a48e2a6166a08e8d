/**
 * Every spelling a resolver turns into an IPv4 address is refused as a hostname (fqdn.hostname,
 * tls.sni, policy host patterns), and nothing else is refused for that reason. The oracle is the
 * machine's own getaddrinfo (Node's dns.lookup): numeric forms resolve without any DNS query, so
 * a name that does not come back as an address (ENOTFOUND or EAI_AGAIN, after at most a DNS
 * timeout) was not read as one.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { destinationHostnameProblem, hostnameSyntaxProblem, resolvesAsIPv4 } from '../../src/backend/rules/hostnames.js';
import { parsePolicyText } from '../../src/policies/format.js';

type Resolved = { numeric: true; addresses: string[] } | { numeric: false; why: string };

/**
 * getaddrinfo's answers for `names`, from a child process: its own large thread pool (a name that
 * is not numeric is a DNS query, which may wait for a resolver timeout and would hold one of the
 * test process's four libuv threads), and a short resolver timeout (RES_OPTIONS, read by glibc).
 */
function resolveAll(names: readonly string[]): Map<string, Resolved> {
  const script = `
    const { lookup } = require('node:dns/promises');
    const names = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const ok = ['ENOTFOUND', 'EAI_AGAIN', 'ESERVFAIL', 'ENODATA', 'EAI_NONAME', 'EAI_FAIL'];
    Promise.all(names.map((name) => lookup(name, { all: true }).then(
      (list) => ({ numeric: true, addresses: list.map((a) => a.family + ':' + a.address) }),
      (err) => ok.includes(String(err.code)) ? { numeric: false, why: String(err.code) } : { error: String(err.code) + ' ' + err.message },
    ))).then((r) => process.stdout.write(JSON.stringify(r)));`;
  const out = execFileSync(process.execPath, ['-e', script], {
    input: JSON.stringify(names),
    env: { ...process.env, UV_THREADPOOL_SIZE: '128', RES_OPTIONS: 'timeout:1 attempts:1' },
    timeout: 60_000,
    encoding: 'utf8',
  });
  const answers = JSON.parse(out) as Array<Resolved | { error: string }>;
  const map = new Map<string, Resolved>();
  names.forEach((name, i) => {
    const a = answers[i]!;
    if ('error' in a) throw new Error(`lookup(${JSON.stringify(name)}) failed unexpectedly: ${a.error}`);
    map.set(name, a);
  });
  return map;
}

const RESOLVES_AS_IP = /^resolves as an IP address \((\d+\.\d+\.\d+\.\d+)\)/;

/** Spellings getaddrinfo reads as an IPv4 address, and the address. */
const NUMERIC: ReadonlyArray<readonly [string, string]> = [
  ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
  ['0251.0376.0251.0376', '169.254.169.254'],
  ['169.254.169.0xfe', '169.254.169.254'],
  ['169.254.0xa9fe', '169.254.169.254'],
  ['169.0xfea9fe', '169.254.169.254'],
  ['0xa9fea9fe', '169.254.169.254'],
  ['2852039166', '169.254.169.254'],
  ['025177524776', '169.254.169.254'],
  ['0251.0xfe.43518', '169.254.169.254'],
  ['169.254.169.254', '169.254.169.254'],
  ['0XA9.0XFE.0XA9.0XFE', '169.254.169.254'],
  ['0xA9.0xFe.0xa9.0xFE', '169.254.169.254'],
  ['127.1', '127.0.0.1'],
  ['127.0.1', '127.0.0.1'],
  ['127.0x1', '127.0.0.1'],
  ['0x7f.1', '127.0.0.1'],
  ['0x7f.0x1', '127.0.0.1'],
  ['0x7f000001', '127.0.0.1'],
  ['017700000001', '127.0.0.1'],
  ['2130706433', '127.0.0.1'],
  ['0177.0.0.1', '127.0.0.1'],
  ['0x0000000007f.1', '127.0.0.1'],
  ['00000000000000000127.1', '87.0.0.1'],
  ['0', '0.0.0.0'],
  ['0x0', '0.0.0.0'],
  ['00', '0.0.0.0'],
  ['1.2.3', '1.2.0.3'],
  ['1.0xffffff', '1.255.255.255'],
  ['1.2.0xffff', '1.2.255.255'],
  ['4294967295', '255.255.255.255'],
  ['0xffffffff', '255.255.255.255'],
  ['037777777777', '255.255.255.255'],
  ['10.0.0.010', '10.0.0.8'],
  ['010.010.010.010', '8.8.8.8'],
  ['10.0x0a0001', '10.10.0.1'],
  ['192.168.0x1.1', '192.168.1.1'],
  ['100.100.100.200', '100.100.100.200'],
  ['0x64.0x64.0x64.0xc8', '100.100.100.200'],
];

/** Names that look numeric but that getaddrinfo sends to DNS: never refused as "resolves as an IP". */
const NOT_NUMERIC: readonly string[] = [
  '0x.1',
  '0x7g.1',
  '08.1',
  '09.0.0.1',
  '0x100.1',
  '1.0x1000000',
  '1.2.0x10000',
  '256.1.1.1',
  '4294967296',
  '0x100000000',
  '1.2.3.4.5',
  '127.0.0.1.',
  '127.1.',
  '.127.1',
  '1..2',
  '1.2.3.4a',
  '08.0x1',
  '1password.com',
  '0xa9.example.com',
  '127.0.0.1.nip-io.invalid',
  '0x7f.1x',
  '1e2.1',
];

// Mostly valid address spellings (bytes, then a last part filling the rest), with some out-of-range and broken parts.
const spell = (max: number) =>
  fc.oneof(
    fc.integer({ min: 0, max }).map((n) => String(n)),
    fc.integer({ min: 0, max }).map((n) => `0x${n.toString(16)}`),
    fc.integer({ min: 0, max }).map((n) => `0X${n.toString(16).toUpperCase()}`),
    fc.integer({ min: 0, max }).map((n) => `0${n.toString(8)}`),
    fc.constantFrom('08', '0x', '00x1', '1a', '09'),
  );
const generatedName = fc
  .tuple(fc.array(spell(300), { maxLength: 3 }), fc.integer({ min: 0, max: 3 }))
  .chain(([head, extra]) => spell([0x1ffffffff, 0x1ffffff, 0x1ffff, 0x1ff][head.length]! + extra).map((last) => [...head, last].join('.')));
const GENERATED = [...new Set(fc.sample(generatedName, { numRuns: 200, seed: 12 }))];

let answers: Map<string, Resolved>;
beforeAll(() => {
  answers = resolveAll([...NUMERIC.map(([name]) => name), ...NOT_NUMERIC, ...GENERATED]);
}, 90_000);

describe('IPv4 spellings, checked against getaddrinfo', () => {
  it('has at least 40 spellings', () => {
    expect(NUMERIC.length + NOT_NUMERIC.length).toBeGreaterThanOrEqual(40);
  });

  it.each(NUMERIC)('%s: getaddrinfo reads it as %s, and so do we: refused', (name, address) => {
    expect(answers.get(name)).toEqual({ numeric: true, addresses: [`4:${address}`] });
    expect(resolvesAsIPv4(name)).toBe(address);
    expect(hostnameSyntaxProblem(name)).toMatch(RESOLVES_AS_IP);
    expect(hostnameSyntaxProblem(name)!.match(RESOLVES_AS_IP)![1]).toBe(address);
    expect(destinationHostnameProblem(name, 'cluster.local')).toMatch(RESOLVES_AS_IP);
  });

  it.each(NOT_NUMERIC)('%s: getaddrinfo does not read it as an address, and neither do we', (name) => {
    const resolved = answers.get(name)!;
    expect(resolved.numeric, `getaddrinfo answered ${JSON.stringify(resolved)}`).toBe(false);
    expect(resolvesAsIPv4(name)).toBeUndefined();
    expect(hostnameSyntaxProblem(name) ?? '').not.toMatch(RESOLVES_AS_IP);
  });

  it('agrees with getaddrinfo on generated numeric-looking names', () => {
    const disagreements: string[] = [];
    for (const name of GENERATED) {
      const resolved = answers.get(name)!;
      const ours = resolvesAsIPv4(name);
      const theirs = resolved.numeric ? resolved.addresses : undefined;
      if (JSON.stringify(theirs) !== JSON.stringify(ours === undefined ? undefined : [`4:${ours}`])) disagreements.push(`${name}: getaddrinfo ${JSON.stringify(theirs)}, we ${ours}`);
    }
    expect(disagreements).toEqual([]);
    expect(GENERATED.filter((n) => resolvesAsIPv4(n) !== undefined).length).toBeGreaterThan(30);
    expect(GENERATED.filter((n) => resolvesAsIPv4(n) === undefined).length).toBeGreaterThan(5);
  });

  it('refuses a policy host pattern that is an IP spelling, at load, saying what it is', () => {
    const refused = (host: string): string[] => {
      const parsed = parsePolicyText(`match:\n  hosts: [${JSON.stringify(host)}]\n`);
      return parsed.ok ? [] : parsed.errors.map((e) => `${e.field}: ${e.detail}`);
    };
    expect(refused('0x7f.1')).toEqual(['data[policy.yaml]/match/hosts/0: is an IP address spelling (127.0.0.1): hosts match DNS names; use cidrs for addresses']);
    expect(refused('169.254.169.0xfe')[0]).toMatch(/IP address spelling \(169\.254\.169\.254\)/);
    expect(refused('*.169.254.169.254')[0]).toMatch(/the suffix after \*\. is an IP address spelling \(169\.254\.169\.254\)/);
    expect(refused('api.openai.com')).toEqual([]);
    expect(refused('*.openai.com')).toEqual([]);
    const denied = parsePolicyText('overrides:\n  deniedDestinations:\n    hosts: ["2852039166"]\n');
    expect(denied.ok).toBe(false);
  });
});
