/**
 * `backend-webhook validate` end to end: the built CLI as a subprocess on fixture directories,
 * asserting output lines, formats and exit codes (0 valid, 1 invalid, 2 usage or I/O error).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureBuilt, FIXTURES, lines, ROOT, runValidate } from './validate-cli.js';

const F = FIXTURES;
const INVALID = `${F}/invalid/backends.yaml`;
const BAD = 'Backend/team-a/bad';
const DUPLICATE = 'spec.destination.ports[1].number: Duplicate value: 443';
const UNSUPPORTED = 'spec.destination.ports[1].protocol: Unsupported value: "HTTPS": supported values: "HTTP", "HTTP2", "TCP", "MCP"';
const INSECURE = 'spec.destination.ports[0].tls.insecureSkipVerify: true disables verification of the server certificate';

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

describe('text output', () => {
  it('passes a directory of valid objects (recursive, YAML, JSON, List), skipping other kinds: exit 0', async () => {
    const run = await runValidate([`${F}/valid`]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    // 2 in backends.yaml + 2 List items + 1 JSON; the Deployment is skipped; README.txt is not read.
    expect(lines(run.stdout)).toEqual(['Summary: 5 judged, 5 valid, 0 invalid, 0 warnings, 1 skipped']);
  });

  it('prints one line per problem, warnings marked, and a summary: exit 1', async () => {
    const run = await runValidate([`${F}/invalid`]);
    expect(run.code).toBe(1);
    const out = lines(run.stdout);
    expect(out).toHaveLength(4);
    expect(out[0]).toBe(`${INVALID}:15 ${BAD}: ${DUPLICATE}`);
    expect(out[1]).toMatch(new RegExp(`^${escape(`${INVALID}:15 ${BAD}: ${UNSUPPORTED}`)}`));
    expect(out[2]).toBe(`${INVALID}:15 ${BAD}: warning: ${INSECURE}`);
    expect(out[3]).toBe('Summary: 2 judged, 1 valid, 1 invalid, 1 warnings, 0 skipped');
  });

  it('reads standard input with -', async () => {
    const run = await runValidate(['-'], { stdin: readFileSync(path.join(ROOT, INVALID), 'utf8') });
    expect(run.code).toBe(1);
    expect(lines(run.stdout)[0]).toBe(`<stdin>:15 ${BAD}: ${DUPLICATE}`);
    expect(lines(run.stdout).at(-1)).toBe('Summary: 2 judged, 1 valid, 1 invalid, 1 warnings, 0 skipped');
  });

  it('reports broken YAML with file, document and line, and still checks the other documents and files: exit 1', async () => {
    const run = await runValidate([`${F}/broken`]);
    expect(run.code).toBe(1);
    expect(lines(run.stdout)).toEqual([
      `${F}/broken/a-broken.yaml:16:1: YAML: All mapping items must start at the same column`,
      // first and third documents of the broken file, and the other file
      'Summary: 3 judged, 3 valid, 0 invalid, 0 warnings, 0 skipped, 1 broken documents',
    ]);
  });

  it('--strict makes an unknown kind an error (flag or environment variable)', async () => {
    const expected = `${F}/valid/backends.yaml:34 Deployment/team-a/gateway: kind: apps/v1 Deployment is not a kind backend-webhook judges (--strict refuses unknown kinds)`;
    for (const run of [await runValidate(['--strict', `${F}/valid`]), await runValidate([`${F}/valid`], { env: { BACKEND_WEBHOOK_STRICT: 'true' } })]) {
      expect(run.code).toBe(1);
      expect(lines(run.stdout)).toEqual([expected, 'Summary: 6 judged, 5 valid, 1 invalid, 0 warnings, 0 skipped']);
    }
    const off = await runValidate([`${F}/valid`], { env: { BACKEND_WEBHOOK_STRICT: 'false' } });
    expect(off.code).toBe(0);
  });

  it('warns about a kind of the Backend API group that is not served (a likely typo), and skips it', async () => {
    const stdin = 'apiVersion: ainetworking.prototype.x-k8s.io/v1alpha1\nkind: Backend\nmetadata: {name: typo, namespace: team-a}\nspec: {}\n';
    const run = await runValidate(['-'], { stdin });
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([
      '<stdin>:1 Backend/team-a/typo: warning: not judged: ainetworking.prototype.x-k8s.io/v1alpha1 Backend is not served; judged are ainetworking.prototype.x-k8s.io/v0alpha0 Backend and XBackendDestination',
      'Summary: 0 judged, 0 valid, 0 invalid, 1 warnings, 1 skipped',
    ]);
  });

  it('--show-defaults prints the defaulting patch each object would get', async () => {
    const run = await runValidate(['--show-defaults', `${F}/defaults`]);
    expect(run.code).toBe(0);
    const head = `${F}/defaults/backend.yaml:1 Backend/team-a/example: default:`;
    expect(lines(run.stdout)).toEqual([
      `${head} add /spec/destination/ports/1/protocolOptions/mcp/path "/mcp"`,
      `${head} add /spec/destination/ports/1/tls {"mode":"Simple","sni":"api.example.com"}`,
      'Summary: 1 judged, 1 valid, 0 invalid, 0 warnings, 0 skipped',
    ]);
    // Without the flag, nothing but the summary.
    expect(lines((await runValidate([`${F}/defaults`])).stdout)).toHaveLength(1);
  });
});

describe('extension schemas', () => {
  const REFUSED = 'spec.extensions[0].rawConfig/requestsPerMinute: Invalid value: 0: must be greater than or equal to 1';

  it('registers labelled schema ConfigMaps found in the input before judging', async () => {
    const run = await runValidate([`${F}/schemas-in-input`]);
    expect(run.code).toBe(1);
    expect(lines(run.stdout)).toEqual([
      `${F}/schemas-in-input/backends.yaml:17 Backend/team-a/over-limited: ${REFUSED}`,
      // the two Backends and the schema ConfigMap
      'Summary: 3 judged, 2 valid, 1 invalid, 0 warnings, 0 skipped',
    ]);
  });

  it('without the schema the extension type is refused; --schema-dir supplies it', async () => {
    const manifests = `${F}/schema-dir/manifests`;
    const without = await runValidate([manifests]);
    expect(without.code).toBe(1);
    expect(lines(without.stdout).filter((l) => l.includes('spec.extensions[0].type: Unsupported value: "example.com/RateLimit": no schema is registered'))).toHaveLength(2);

    const withDir = await runValidate(['--schema-dir', `${F}/schema-dir/schemas`, manifests]);
    expect(withDir.code).toBe(1);
    expect(lines(withDir.stdout)).toEqual([`${manifests}/backends.yaml:17 Backend/team-a/over-limited: ${REFUSED}`, 'Summary: 2 judged, 1 valid, 1 invalid, 0 warnings, 0 skipped']);
  });

  it('passes the server flags through: --unknown-extension-policy warn turns the refusal into warnings', async () => {
    const run = await runValidate(['--unknown-extension-policy', 'warn', `${F}/schema-dir/manifests`]);
    expect(run.code).toBe(0);
    expect(lines(run.stdout).at(-1)).toBe('Summary: 2 judged, 2 valid, 0 invalid, 2 warnings, 0 skipped');
    expect(lines(run.stdout)[0]).toMatch(/:1 Backend\/team-a\/limited: warning: spec\.extensions\[0\]\.type: no schema registered/);
  });

  it('a schema ConfigMap in the input that does not compile is an invalid object', async () => {
    const run = await runValidate([`${F}/bad-schema-in-input`]);
    expect(run.code).toBe(1);
    expect(lines(run.stdout)[0]).toMatch(
      new RegExp(`^${escape(`${F}/bad-schema-in-input/schema.yaml:1 ConfigMap/platform/extension-schema-broken: data[schema.json]: Invalid value: `)}`),
    );
  });
});

describe('json output', () => {
  it('is one document with the summary, every object (skipped ones too) and its findings', async () => {
    const run = await runValidate(['-o', 'json', `${F}/invalid`, `${F}/valid`]);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc.summary).toEqual({ judged: 7, valid: 6, invalid: 1, warnings: 1, skipped: 1, brokenDocuments: 0, ioErrors: 0 });
    expect(doc.files).toEqual([INVALID, `${F}/valid/backends.yaml`, `${F}/valid/nested/list.yaml`, `${F}/valid/nested/mistral.json`]);
    const bad = doc.results[1];
    expect(bad).toMatchObject({ file: INVALID, document: 1, line: 15, kind: 'Backend', namespace: 'team-a', name: 'bad', outcome: 'invalid' });
    expect(bad.errors.map((e: any) => [e.field, e.reason, e.line])).toEqual([
      ['spec.destination.ports[1].number', 'FieldValueDuplicate', 31],
      ['spec.destination.ports[1].protocol', 'FieldValueNotSupported', 32],
    ]);
    expect(bad.warnings).toEqual([{ message: INSECURE, line: 30 }]);
    // List items carry their index and their own line; the Deployment is listed as skipped.
    const byName = Object.fromEntries(doc.results.map((r: any) => [r.name, r]));
    expect(byName['on-prem']).toMatchObject({ file: `${F}/valid/nested/list.yaml`, document: 0, item: 1, line: 19, outcome: 'valid' });
    expect(byName.gateway).toMatchObject({ kind: 'Deployment', outcome: 'skipped' });
    expect(byName.mistral).toMatchObject({ document: 0, outcome: 'valid' });
    expect(bad.defaults).toBeUndefined();
  });

  it('carries the defaulting patch with --show-defaults', async () => {
    const run = await runValidate(['-o', 'json', '--show-defaults', `${F}/defaults`]);
    const doc = JSON.parse(run.stdout);
    expect(doc.results[0].defaults).toEqual([
      { op: 'add', path: '/spec/destination/ports/1/protocolOptions/mcp/path', value: '/mcp' },
      { op: 'add', path: '/spec/destination/ports/1/tls', value: { mode: 'Simple', sni: 'api.example.com' } },
    ]);
  });

  it('lists broken documents as problems', async () => {
    const run = await runValidate(['--output', 'json', `${F}/broken`]);
    const doc = JSON.parse(run.stdout);
    expect(doc.problems).toEqual([
      { code: 'ParseFailed', file: `${F}/broken/a-broken.yaml`, document: 1, line: 16, column: 1, message: 'YAML: All mapping items must start at the same column' },
    ]);
  });
});

describe('github output', () => {
  it('writes workflow commands on the line of each offending field', async () => {
    const run = await runValidate(['-o', 'github', `${F}/invalid`, `${F}/broken`]);
    expect(run.code).toBe(1);
    const out = lines(run.stdout);
    const title = `title=${BAD} (${INVALID}%3A15)`;
    expect(out[0]).toBe(`::error file=${INVALID},line=31,${title}::${DUPLICATE}`);
    expect(out[1]).toMatch(new RegExp(`^${escape(`::error file=${INVALID},line=32,${title}::spec.destination.ports[1].protocol: Unsupported value`)}`));
    expect(out[2]).toBe(`::warning file=${INVALID},line=30,${title}::${INSECURE}`);
    expect(out[3]).toBe(
      `::error file=${F}/broken/a-broken.yaml,line=16,col=1,title=backend-webhook%3A ${F}/broken/a-broken.yaml%3A16%3A1::YAML: All mapping items must start at the same column`,
    );
    expect(out.at(-1)).toBe('Summary: 5 judged, 4 valid, 1 invalid, 1 warnings, 0 skipped, 1 broken documents');
  });

  it('annotates standard input without a file', async () => {
    const run = await runValidate(['-o', 'github', '-'], { stdin: readFileSync(path.join(ROOT, INVALID), 'utf8') });
    expect(lines(run.stdout)[0]).toBe(`::error title=${BAD} (<stdin>%3A15)::${DUPLICATE}`);
  });
});

describe('exit code 2', () => {
  it('a missing path is an I/O error, reported on stderr, and the other inputs are still checked', async () => {
    const run = await runValidate([`${F}/no-such-dir`, `${F}/valid`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${F}/no-such-dir: error: no such file or directory\n`);
    expect(lines(run.stdout)).toEqual(['Summary: 5 judged, 5 valid, 0 invalid, 0 warnings, 1 skipped, 1 read errors']);
  });

  it('wins over invalid objects', async () => {
    expect((await runValidate([`${F}/invalid`, `${F}/missing.yaml`])).code).toBe(2);
  });

  it('usage errors: no path, an unknown output format, a bad server flag, an unknown flag', async () => {
    const none = await runValidate([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('validate needs files, directories, or - for standard input');
    for (const args of [['-o', 'xml', `${F}/valid`], ['--denied-cidr', '10.0.0.0/99', `${F}/valid`], ['--no-such-flag', `${F}/valid`]]) {
      const run = await runValidate(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
    }
  });

  it('a --schema-dir that does not exist', async () => {
    const run = await runValidate(['--schema-dir', `${F}/nope`, `${F}/valid`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${F}/nope: error: --schema-dir: no such file or directory`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('edges of the input and the flags', () => {
  it('empty input (a renderer that failed upstream of the pipe) is not a pass: exit 1 unless --allow-empty', async () => {
    for (const stdin of ['', '# only a comment\n---\n']) {
      const run = await runValidate(['-'], { stdin });
      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toEqual(['error: no objects in input (-); pass --allow-empty if that is expected']);
      expect(lines(run.stdout)).toEqual(['Summary: 0 judged, 0 valid, 0 invalid, 0 warnings, 0 skipped']);
    }
    expect((await runValidate(['--allow-empty', '-'], { stdin: '' })).code).toBe(0);
    expect((await runValidate(['-'], { stdin: '', env: { BACKEND_WEBHOOK_ALLOW_EMPTY: 'true' } })).code).toBe(0);
    // Skipped objects are objects: the input was not empty.
    expect((await runValidate(['-'], { stdin: 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\n' })).code).toBe(0);
  });

  it('--denied-cidr with host bits set is refused with the range it most likely means', async () => {
    for (const [given, meant] of [
      ['10.0.0.1/8', '10.0.0.0/8'],
      ['169.254.169.254/16', '169.254.0.0/16'],
      ['fd00:ec2::254/32', 'fd00:ec2::/32'],
    ]) {
      const run = await runValidate(['--denied-cidr', given!, `${F}/valid`]);
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toContain(`did you mean ${meant}?`);
    }
    expect((await runValidate(['--denied-cidr', '192.0.2.0/24', '--denied-cidr', 'fd00:ec2::254/128', `${F}/valid`])).code).toBe(0);
  });
});
