/** Builders for policy ConfigMaps and policy sets in tests. */
import { stringify } from 'yaml';
import { POLICY_KEY, POLICY_LABEL, parsePolicyText, type PolicyDocument } from '../../src/policies/format.js';
import { compilePolicy, PolicySet } from '../../src/policies/policy-set.js';
import type { ConfigMapObject } from '../../src/schemas/source.js';
import type { KubeObject } from '../support/fake-apiserver.js';

export const PLATFORM = 'platform';

export function policyCm(name: string, doc: PolicyDocument | string, opts: { namespace?: string; resourceVersion?: string; created?: string; labelled?: boolean } = {}): ConfigMapObject & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: opts.namespace ?? PLATFORM,
      ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}),
      ...(opts.created ? { creationTimestamp: opts.created } : {}),
      labels: opts.labelled === false ? {} : { [POLICY_LABEL]: 'true' },
    },
    data: { [POLICY_KEY]: typeof doc === 'string' ? doc : stringify(doc) },
  };
}

/** A PolicySet from documents, each `[name, doc]`, all in the platform namespace; throws on a broken one. */
export function policySet(...entries: Array<[string, PolicyDocument]>): PolicySet {
  return new PolicySet(
    entries.map(([name, doc]) => {
      const parsed = parsePolicyText(stringify(doc));
      if (!parsed.ok) throw new Error(`${name}: ${JSON.stringify(parsed.errors)}`);
      return compilePolicy(parsed.document, { kind: 'configmap', namespace: PLATFORM, name });
    }),
  );
}

export function fqdnBackend(host: string, ports: unknown[] = [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: host } }], extra: Record<string, unknown> = {}, namespace = 'team-a'): any {
  return {
    apiVersion: 'ainetworking.prototype.x-k8s.io/v0alpha0',
    kind: 'Backend',
    metadata: { name: 'b', namespace },
    spec: { destination: { type: 'Fqdn', fqdn: { hostname: host }, ports }, ...extra },
  };
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
