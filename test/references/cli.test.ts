/**
 * Cross-namespace references offline (issue 12.4): `validate` reads ReferenceGrants from its input,
 * honours --cross-namespace-refs, and never refuses a ReferenceGrant as an unjudged kind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, FIXTURES, lines, runValidate } from '../cli/validate-cli.js';

const DIR = `${FIXTURES}/reference-grants`;
const BACKEND = `${DIR}/backend.yaml`;
const FIELD = 'spec.destination.ports[0].tls.clientCertificateRef.namespace';

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

describe('validate and ReferenceGrants', () => {
  it('without a grant in the input the cross-namespace reference is refused: exit 1', async () => {
    const run = await runValidate([BACKEND]);
    expect(run.code).toBe(1);
    expect(lines(run.stdout)[0]).toMatch(new RegExp(`^${BACKEND}:\\d+ Backend/team-a/mtls: ${FIELD.replace(/[.[\]]/g, '\\$&')}: Forbidden: a Secret in another namespace needs a ReferenceGrant in certs`));
  });

  it('a ReferenceGrant in the input allows it, also under --strict: exit 0', async () => {
    const run = await runValidate([DIR, '--strict']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(lines(run.stdout).at(-1)).toMatch(/^Summary: 1 judged, 1 valid, 0 invalid/);
  });

  it('--cross-namespace-refs deny ignores the grant; allow needs none (flag or environment variable)', async () => {
    expect((await runValidate([DIR, '--cross-namespace-refs', 'deny'])).code).toBe(1);
    expect((await runValidate([BACKEND, '--cross-namespace-refs', 'allow'])).code).toBe(0);
    expect((await runValidate([BACKEND], { env: { BACKEND_WEBHOOK_CROSS_NAMESPACE_REFS: 'allow' } })).code).toBe(0);
    const bad = await runValidate([BACKEND, '--cross-namespace-refs', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must be one of deny, reference-grant, allow/);
  });
});
