/**
 * Cross-namespace references, for any kind: a reference from an object to one in another namespace
 * is refused unless a grant allows it (Gateway API's ReferenceGrant model). The grant lookup is a
 * plug-in (`ReferenceGrants`): without one nothing is granted, so every cross-namespace reference is
 * refused, which is the safe side.
 */
import { forbidden } from '../backend/field-errors.js';
import type { Findings } from '../backend/issues.js';
import { dotted, type Segments } from '../backend/paths.js';

export interface ReferenceFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

export interface ReferenceTo {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

/** Whether a grant in `to.namespace` allows the reference. */
export type ReferenceGrants = (from: ReferenceFrom, to: ReferenceTo) => boolean;

/** No grant lookup: nothing is granted. */
export const NO_REFERENCE_GRANTS: ReferenceGrants = () => false;

/**
 * Reports a reference at `at` (its namespace field is `[...at, 'namespace']`) that leaves the
 * object's namespace without a grant. `from.namespace` empty: the object's namespace is unknown
 * (an offline object without one) and nothing is judged.
 */
export function checkCrossNamespaceReference(findings: Findings, from: ReferenceFrom, to: ReferenceTo, at: Segments, grants: ReferenceGrants = NO_REFERENCE_GRANTS): void {
  if (from.namespace === '' || to.namespace === '' || to.namespace === from.namespace) return;
  if (grants(from, to)) return;
  const field = [...at, 'namespace'];
  const what = `${to.kind}${to.group ? `.${to.group}` : ''}`;
  findings.report(
    forbidden(
      dotted(field),
      `a ${what} in namespace ${to.namespace} may only be referenced from namespace ${from.namespace} when a ReferenceGrant in ${to.namespace} allows it (from ${from.kind}.${from.group})`,
    ),
    [field, ['metadata', 'namespace']],
  );
}
