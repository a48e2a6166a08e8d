/**
 * Cross-namespace references, for any kind: a reference from an object to one in another namespace
 * is refused unless --cross-namespace-refs allows it (by default: a Gateway API ReferenceGrant in
 * the target namespace, src/references/grants.ts). The grants come in the validation options, so
 * judging stays pure; without any, nothing is granted, which is the safe side.
 */
import { forbidden } from '../backend/field-errors.js';
import type { Findings } from '../backend/issues.js';
import type { ValidationOptions } from '../backend/options.js';
import { dotted, type Segments } from '../backend/paths.js';
import { crossNamespaceRefProblem, type ReferenceFrom, type ReferenceTo } from '../references/grants.js';

export type { ReferenceFrom, ReferenceTo };

/**
 * Reports a reference at `at` (its namespace field is `[...at, 'namespace']`) that leaves the
 * object's namespace without a grant. `from.namespace` empty: the object's namespace is unknown
 * and nothing is judged.
 */
export function checkCrossNamespaceReference(findings: Findings, from: ReferenceFrom, to: ReferenceTo, at: Segments, options: ValidationOptions): void {
  if (from.namespace === '' || to.namespace === '') return;
  const problem = crossNamespaceRefProblem(options.crossNamespaceRefs ?? 'reference-grant', options.referenceGrants, from, to);
  if (problem === undefined) return;
  const field = [...at, 'namespace'];
  findings.report(forbidden(dotted(field), problem), [field, ['metadata', 'namespace']]);
}
