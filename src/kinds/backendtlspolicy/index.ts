/**
 * The BackendTLSPolicy guard (gateway.networking.k8s.io BackendTLSPolicy v1 and v1alpha3): GEP-4894
 * disallows Backends as BackendTLSPolicy targets and no upstream CEL enforces it. A targetRef naming
 * any kind of the Backend's group, or Gateway API's XBackend, is refused at `spec.targetRefs[i]`;
 * the TLS settings belong on the Backend's port (or the XBackend's spec.tls). Nothing else of the
 * policy is judged, nothing is defaulted, and policies do not apply.
 */
import { forbidden } from '../../backend/field-errors.js';
import { dotted, isPlainObject } from '../../backend/paths.js';
import { API_GROUP } from '../../backend/types.js';
import { validateWith, type KindChecks } from '../pipeline.js';
import type { KindUnit } from '../unit.js';
import { XBACKEND_GROUP, XBACKEND_KIND } from '../xbackend/types.js';

export const BACKEND_TLS_POLICY_GROUP = 'gateway.networking.k8s.io';

/** Where the TLS settings of a refused target go instead, or undefined when the target is fine. */
function misdirected(group: unknown, kind: unknown): string | undefined {
  if (group === API_GROUP) {
    return `${API_GROUP} kinds are not BackendTLSPolicy targets (GEP-4894): set TLS on the Backend's port instead (spec.destination.ports[].tls)`;
  }
  if (group === XBACKEND_GROUP && kind === XBACKEND_KIND) {
    return 'an XBackend is not a BackendTLSPolicy target (GEP-4894): set TLS in the XBackend\'s spec.tls instead';
  }
  return undefined;
}

const GUARD_CHECKS: KindChecks = {
  structure: () => [],
  rules(findings, object) {
    const spec = object['spec'];
    const refs = isPlainObject(spec) ? spec['targetRefs'] : undefined;
    if (!Array.isArray(refs)) return;
    refs.forEach((ref: unknown, i) => {
      if (!isPlainObject(ref)) return;
      const detail = misdirected(ref['group'], ref['kind']);
      const at = ['spec', 'targetRefs', i];
      if (detail) findings.report(forbidden(dotted(at), detail), [at]);
    });
  },
};

export const BACKEND_TLS_POLICY_UNIT: KindUnit = {
  name: 'BackendTLSPolicy',
  group: BACKEND_TLS_POLICY_GROUP,
  versions: ['v1', 'v1alpha3'],
  kinds: [{ kind: 'BackendTLSPolicy', resource: 'backendtlspolicies' }],
  scope: 'Namespaced',
  judges: { validate: ['CREATE', 'UPDATE'] },
  validate: (input, schemas, options) => validateWith(input, GUARD_CHECKS, schemas, options),
};
