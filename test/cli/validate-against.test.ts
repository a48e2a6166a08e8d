/**
 * `validate --against`: an input object that exists now is judged as the UPDATE the API server would
 * see, so problems in values it does not change are ratcheted (warnings), as in the cluster.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { runOfflineValidation } from '../../src/offline/run.js';
import { ensureBuilt, lines, runValidate } from './validate-cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'validate-against-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Live: port 443 has `sni` with mode None, which the webhook refuses (an object from before the rule).
const legacyPort = { number: 443, protocol: 'HTTP', tls: { mode: 'None', sni: 'api.example.com' } };
function backend(name: string, ports: unknown[], namespace?: string): Record<string, unknown> {
  return {
    apiVersion: 'ainetworking.prototype.x-k8s.io/v0alpha0',
    kind: 'Backend',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { destination: { type: 'Fqdn', fqdn: { hostname: 'api.example.com' }, ports } },
  };
}

function write(file: string, objects: unknown[]): string {
  const full = path.join(dir, file);
  writeFileSync(full, objects.map((o) => stringify(o)).join('---\n'));
  return full;
}

const live = write('live.yaml', [{ apiVersion: 'v1', kind: 'List', items: [backend('kept', [legacyPort], 'team-a'), backend('touched', [legacyPort], 'team-a'), backend('plain', [legacyPort])] }]);
const input = write('input.yaml', [
  // Unchanged port 443, a new port: an UPDATE that leaves the old problem alone.
  backend('kept', [legacyPort, { number: 8443, protocol: 'HTTP2', tls: { mode: 'Simple' } }], 'team-a'),
  // The problem is edited (a different sni): no longer unchanged, so denied.
  backend('touched', [{ ...legacyPort, tls: { mode: 'None', sni: 'other.example.com' } }], 'team-a'),
  // No namespace on either side: matched in `default`, as kubectl apply without -n.
  backend('plain', [legacyPort]),
  // Not there now: a CREATE, denied.
  backend('new', [legacyPort], 'team-a'),
]);

const run = (against: string[]) =>
  runOfflineValidation({ paths: [input], schemaDirs: [], validation: DEFAULT_VALIDATION_OPTIONS, strict: false, showDefaults: false, against });

describe('runOfflineValidation with against', () => {
  it('judges matches as UPDATEs with ratcheting, everything else as CREATE', async () => {
    const report = await run([live]);
    const byName = Object.fromEntries(report.results.map((r) => [r.ref.name, r]));
    expect(byName.kept?.outcome).toBe('valid');
    expect(byName.kept?.warnings.map((w) => w.message)).toEqual([
      'spec.destination.ports[0].tls.mode: None sends plaintext to an external (Fqdn) destination',
      'unchanged, so allowed: spec.destination.ports[0].tls.sni: Forbidden: not allowed when mode is None',
    ]);
    expect(byName.plain?.outcome).toBe('valid');
    expect(byName.touched?.outcome).toBe('invalid');
    expect(byName.touched?.errors.map((e) => e.field)).toEqual(['spec.destination.ports[0].tls.sni']);
    expect(byName.new?.outcome).toBe('invalid');
    // The --against files are not reported as inputs.
    expect(report.files).toEqual([input]);
  });

  it('without it, every object is a CREATE: the old problem denies', async () => {
    const report = await run([]);
    expect(report.results.map((r) => r.outcome)).toEqual(['invalid', 'invalid', 'invalid', 'invalid']);
  });
});

describe('the built CLI', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);

  it('takes --against and prints the ratcheted problem as a warning', async () => {
    const result = await runValidate([input, '--against', live]);
    expect(result.code).toBe(1); // `touched` and `new` are still invalid
    const out = lines(result.stdout);
    expect(out.some((l) => /Backend\/team-a\/kept: warning: unchanged, so allowed: /.test(l))).toBe(true);
    // Each object warns of plaintext to an external host; `kept` and `plain` add the ratcheted problem.
    expect(out.at(-1)).toBe('Summary: 4 judged, 2 valid, 2 invalid, 6 warnings, 0 skipped');
  });

  it('refuses standard input for --against (exit 2)', async () => {
    const result = await runValidate([input, '--against', '-']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--against/);
  });
});
