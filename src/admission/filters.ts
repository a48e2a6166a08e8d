/** Small predicates deciding what a request is about (pepr-style filters). */
import { kindFor } from '../kinds/registry.js';
import type { AdmissionRequest, GroupVersionKind } from './review.js';

/** A kind some unit of src/kinds/ serves. */
export const isServedKind = (gvk: GroupVersionKind): boolean => kindFor(gvk) !== undefined;

export const servedKindOf = (gvk: GroupVersionKind): string | undefined => (isServedKind(gvk) ? gvk.kind : undefined);

/** Only writes of the main resource are judged; status belongs to controllers. */
export const isJudgedWrite = (req: AdmissionRequest): req is AdmissionRequest & { operation: 'CREATE' | 'UPDATE' } =>
  (req.operation === 'CREATE' || req.operation === 'UPDATE') && req.subResource === undefined;

export const describeKind = (gvk: GroupVersionKind): string => `${gvk.group || 'core'}/${gvk.version}, Kind=${gvk.kind}`;
