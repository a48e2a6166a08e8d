/**
 * Backend and XBackendDestination (ainetworking.prototype.x-k8s.io/v0alpha0) as a served kind: a
 * wrapper around src/backend/ (validateBackend, defaultBackend, applyBuiltInDefaults), where the
 * schema, the rules and the defaulting live.
 */
import { applyBuiltInDefaults, defaultBackend } from '../../backend/defaults.js';
import { API_GROUP, API_VERSION, SERVED_KINDS } from '../../backend/types.js';
import { validateBackend } from '../../backend/validate.js';
import type { KindUnit } from '../unit.js';
import { backendView } from './view.js';

export const BACKEND_UNIT: KindUnit = {
  name: 'Backend',
  group: API_GROUP,
  versions: [API_VERSION],
  // Plurals as the CRDs name them: backends, xbackenddestinations.
  kinds: SERVED_KINDS.map((kind) => ({ kind, resource: `${kind.toLowerCase()}s` })),
  scope: 'Namespaced',
  judges: { validate: ['CREATE', 'UPDATE'], mutate: ['CREATE', 'UPDATE'] },
  validate: (input, schemas, options) => validateBackend(input, schemas, options),
  defaults: { patch: defaultBackend, apply: applyBuiltInDefaults },
  policies: { view: backendView, defaults: true, notApplied: [] },
};
