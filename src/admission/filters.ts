/** Small predicates deciding what a request is about (pepr-style filters). */
import { kindFor } from '../kinds/registry.js';
import { RequestError } from './errors.js';
import type { AdmissionRequest, GroupVersionKind } from './review.js';

/** A kind some unit of src/kinds/ serves. */
export const isServedKind = (gvk: GroupVersionKind): boolean => kindFor(gvk) !== undefined;

export const servedKindOf = (gvk: GroupVersionKind): string | undefined => (isServedKind(gvk) ? gvk.kind : undefined);

/** Every operation the API server sends (admission.k8s.io Operation); exact spelling. */
export const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/**
 * An operation the API server never sends, or a subresource the kind does not have, means a forged
 * request or a wrong webhook configuration: refused (code 400), never silently allowed. `subresources`
 * are the kind's own (our CRDs: `status`; a ConfigMap: none).
 */
export function unsupportedRequest(req: AdmissionRequest, subresources: readonly string[]): RequestError | undefined {
  if (!OPERATIONS.includes(req.operation)) {
    return new RequestError('UNSUPPORTED_OPERATION', `request.operation ${JSON.stringify(req.operation.slice(0, 64))} is not one of ${OPERATIONS.join(', ')}; the request was not judged`);
  }
  if (req.subResource !== undefined && !subresources.includes(req.subResource)) {
    const known = subresources.length > 0 ? `its only subresource is ${subresources.join(', ')}` : 'it has no subresources';
    return new RequestError(
      'UNSUPPORTED_SUBRESOURCE',
      `subresource ${JSON.stringify(req.subResource.slice(0, 64))} of ${req.kind.kind.slice(0, 64)} is not judged by this webhook (${known}); check the webhook configuration's rules`,
    );
  }
  return undefined;
}

/** Only writes of the main resource are judged; status belongs to controllers. */
export const isJudgedWrite = (req: AdmissionRequest): req is AdmissionRequest & { operation: 'CREATE' | 'UPDATE' } =>
  (req.operation === 'CREATE' || req.operation === 'UPDATE') && req.subResource === undefined;

export const describeKind = (gvk: GroupVersionKind): string => `${gvk.group || 'core'}/${gvk.version}, Kind=${gvk.kind}`;
