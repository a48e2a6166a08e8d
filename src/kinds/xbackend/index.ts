/** Gateway API XBackend as a served kind: schemas/xbackend.schema.json + rules.ts + defaults.ts + view.ts. */
import { resolveOptions } from '../../backend/validate.js';
import { compileStructure, readShippedSchema } from '../../backend/schema.js';
import { validateWith, type KindChecks } from '../pipeline.js';
import type { KindUnit } from '../unit.js';
import { applyXBackendDefaults, defaultXBackend } from './defaults.js';
import { checkXBackend } from './rules.js';
import { XBACKEND_GROUP, XBACKEND_KIND, XBACKEND_RESOURCE, XBACKEND_VERSION } from './types.js';
import { xbackendView } from './view.js';

export const XBACKEND_SCHEMA = readShippedSchema('xbackend.schema.json');
const structure = compileStructure(XBACKEND_SCHEMA);

const XBACKEND_CHECKS: KindChecks = {
  structure,
  rules: (findings, object, input, _schemas, options) =>
    checkXBackend({ findings, options, namespace: input.namespace ?? '' }, object),
};

export const XBACKEND_UNIT: KindUnit = {
  name: XBACKEND_KIND,
  group: XBACKEND_GROUP,
  versions: [XBACKEND_VERSION],
  kinds: [{ kind: XBACKEND_KIND, resource: XBACKEND_RESOURCE }],
  scope: 'Namespaced',
  judges: { validate: ['CREATE', 'UPDATE'], mutate: ['CREATE', 'UPDATE'] },
  validate: (input, schemas, options) => validateWith(input, XBACKEND_CHECKS, schemas, resolveOptions(options)),
  defaults: { patch: defaultXBackend, apply: applyXBackendDefaults },
  policies: {
    view: xbackendView,
    // Policy defaults are written for the Backend's ports and extensions.
    defaults: false,
    notApplied: ['forbidInsecureSkipVerify', 'requiredExtensions', 'forbiddenExtensions', 'defaults'],
  },
};
