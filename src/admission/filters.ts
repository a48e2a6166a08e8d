/** Small predicates deciding what a request is about (pepr-style filters). */
import { API_GROUP, API_VERSION, SERVED_KINDS, type ServedKind } from '../backend/types.js';
import type { AdmissionRequest, GroupVersionKind } from './review.js';

export const isServedKind = (gvk: GroupVersionKind): boolean =>
  gvk.group === API_GROUP && gvk.version === API_VERSION && (SERVED_KINDS as readonly string[]).includes(gvk.kind);

export const servedKindOf = (gvk: GroupVersionKind): ServedKind | undefined =>
  isServedKind(gvk) ? (gvk.kind as ServedKind) : undefined;

/** Only writes of the main resource are judged; status belongs to controllers. */
export const isJudgedWrite = (req: AdmissionRequest): req is AdmissionRequest & { operation: 'CREATE' | 'UPDATE' } =>
  (req.operation === 'CREATE' || req.operation === 'UPDATE') && req.subResource === undefined;

export const describeKind = (gvk: GroupVersionKind): string => `${gvk.group || 'core'}/${gvk.version}, Kind=${gvk.kind}`;
