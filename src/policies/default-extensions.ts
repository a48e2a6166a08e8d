/**
 * A policy's default extensions checked against the extension schemas registered now, when the
 * policy ConfigMap is applied (webhook) or validated offline. Warnings, not refusals: schemas and
 * policies are applied in any order and schemas change later; at admission an invalid default only
 * makes the policy's defaults be dropped for that Backend. The warning says so before it happens.
 */
import { convertAjvErrors } from '../backend/ajv-errors.js';
import { errorBody } from '../backend/field-errors.js';
import type { SchemaLookup } from '../schemas/registry.js';
import { POLICY_FIELD, policyReviewer, readPolicyConfigMap, type PolicyDocument } from './format.js';
import type { ConfigMapReviewer } from '../admission/configmap-handler.js';
import type { ConfigMapObject } from '../schemas/source.js';
import { headFirst } from './warning-text.js';

/** What an invalid default extension costs: said first in its warning. */
export const DROPPED = "this policy's defaults are dropped at admission";

/** One warning per default extension whose rawConfig the registered schema refuses, or that has no schema. */
export function defaultExtensionWarnings(document: PolicyDocument, schemas: SchemaLookup): string[] {
  const warnings: string[] = [];
  (document.defaults?.extensions ?? []).forEach((ext, i) => {
    const at = `${POLICY_FIELD}/defaults/extensions/${i}`;
    // Warnings are about this policy document: its fields without the data[policy.yaml] prefix.
    const short = `defaults/extensions/${i}`;
    const schema = schemas.get(ext.type);
    if (!schema) {
      warnings.push(headFirst('rawConfig not checked: no schema registered yet', short, `for type ${JSON.stringify(ext.type)}`));
      return;
    }
    const config = ext.rawConfig ?? {};
    let ok: boolean;
    try {
      ok = schema.validate(config) === true;
    } catch {
      ok = false;
    }
    if (ok) return;
    const first = convertAjvErrors(schema.validate.errors, `${at}/rawConfig`, { data: config, pathStyle: 'pointer' })[0];
    // The consequence first: field and problem are what gets shortened within the 119 characters.
    const field = `${short}${first ? first.error.field.slice(at.length) : '/rawConfig'}`;
    const why = first ? errorBody(first.error) : `does not match the schema registered for ${ext.type}`;
    warnings.push(headFirst(DROPPED, field, why));
  });
  return warnings;
}

/** The warnings for a policy ConfigMap (none when it does not parse: its errors say enough). */
export function policyConfigMapWarnings(configMap: ConfigMapObject, schemas: SchemaLookup): string[] {
  const read = readPolicyConfigMap(configMap);
  return read.ok ? defaultExtensionWarnings(read.document, schemas) : [];
}

/** policyReviewer that also warns about default extensions the current schemas refuse. */
export function policyReviewerWith(schemas: () => SchemaLookup): ConfigMapReviewer {
  return { ...policyReviewer, warn: (configMap) => policyConfigMapWarnings(configMap, schemas()) };
}
