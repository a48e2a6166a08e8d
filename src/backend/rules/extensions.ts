/** spec.extensions[]: names, types, and each rawConfig against its type's registered schema. */
import { convertAjvErrors } from '../ajv-errors.js';
import { duplicate, invalid, notSupported, required } from '../field-errors.js';
import { dotted, isPlainObject, type Segments } from '../paths.js';
import { extensionTypeProblem } from '../../schemas/configmap.js';
import type { ExtensionSchema } from '../../schemas/registry.js';
import { JudgingFailure } from '../judging-failure.js';
import { asString, isSet, type RuleContext } from './context.js';
import { dns1123LabelProblem, MAX_LABEL } from './names.js';
import { ALL_ERRORS_MAX_NODES, exceedsNodes, MAX_COLLECTED_ISSUES, MAX_EXTENSIONS } from '../limits.js';

const MAX_TYPE_LENGTH = 330;
/** Warnings stay under kubectl's 120-character comfort zone. */
const MAX_WARNING = 119;

/** Our own failure (a registry that throws) is not "no schema": it must not pass or warn. */
function lookupSchema(ctx: RuleContext, type: string): ExtensionSchema | undefined {
  try {
    return ctx.schemas.get(type);
  } catch (err) {
    throw new JudgingFailure('schema-lookup', `looking up the extension schema for ${JSON.stringify(type.slice(0, 64))} failed`, { cause: err });
  }
}

function checkRawConfig(ctx: RuleContext, ext: Record<string, unknown>, at: Segments, schema: ExtensionSchema): void {
  if (isSet(ext, 'rawConfig') && !isPlainObject(ext['rawConfig'])) return; // the schema reports the type
  // Absent rawConfig is an empty config: a schema with required properties still applies.
  const config = isSet(ext, 'rawConfig') ? ext['rawConfig'] : {};
  let ok: boolean;
  let validate = schema.validate;
  try {
    // A large config, or one judged after enough problems are collected, gets its first error only.
    if (ctx.findings.full || exceedsNodes(config, ALL_ERRORS_MAX_NODES)) validate = schema.validate.firstProblem ?? validate;
    ok = validate(config);
  } catch (err) {
    throw new JudgingFailure('schema-validate', `the extension schema for ${JSON.stringify(schema.type.slice(0, 64))} threw while validating a rawConfig`, { cause: err });
  }
  if (ok === true) return;
  const configAt = [...at, 'rawConfig'];
  const scope = [[...at, 'type'], configAt];
  const raw = validate.errors && validate.errors.length > MAX_COLLECTED_ISSUES ? validate.errors.slice(0, MAX_COLLECTED_ISSUES) : validate.errors;
  const errors = convertAjvErrors(raw, dotted(configAt), { data: config, pathStyle: 'pointer' });
  if (errors.length === 0) {
    ctx.findings.report(invalid(dotted(configAt), undefined, 'does not match the schema registered for this type'), scope);
  }
  for (const e of errors) ctx.findings.report(e.error, scope);
}

function unknownTypeWarning(path: string, type: string): string {
  const full = `${path}: no schema registered for ${JSON.stringify(type)}; rawConfig not validated`;
  return full.length <= MAX_WARNING ? full : `${path}: no schema registered for this type; rawConfig not validated`;
}

function checkType(ctx: RuleContext, ext: Record<string, unknown>, at: Segments): void {
  const type = asString(ext['type']);
  if (type === undefined || type.length > MAX_TYPE_LENGTH) return;
  const path = [...at, 'type'];
  if (type === '') {
    ctx.findings.report(required(dotted(path)), [path]);
    return;
  }
  const problem = extensionTypeProblem(type);
  if (problem) {
    ctx.findings.report(invalid(dotted(path), type, problem), [path]);
    return;
  }
  const schema = lookupSchema(ctx, type);
  if (schema) {
    checkRawConfig(ctx, ext, at, schema);
  } else if (ctx.options.unknownExtensionPolicy === 'warn') {
    ctx.findings.warn(unknownTypeWarning(dotted(path), type));
  } else {
    ctx.findings.report(notSupported(dotted(path), type, [], 'no schema is registered for this extension type'), [path, [...at, 'rawConfig']]);
  }
}

export function checkExtensions(ctx: RuleContext, extensions: unknown, at: Segments): void {
  if (!Array.isArray(extensions)) return;
  const firstByName = new Map<string, number>();
  // Past MAX_EXTENSIONS the list is refused (TooMany, from the schema): the rest is not judged.
  const judged = extensions.length > MAX_EXTENSIONS ? extensions.slice(0, MAX_EXTENSIONS) : extensions;
  judged.forEach((ext: unknown, i) => {
    if (!isPlainObject(ext)) return;
    const extAt = [...at, i];
    const namePath = [...extAt, 'name'];
    const name = asString(ext['name']);
    if (name === '') ctx.findings.report(required(dotted(namePath)), [namePath]);
    else if (name !== undefined && name.length <= MAX_LABEL) {
      const problem = dns1123LabelProblem(name);
      if (problem) ctx.findings.report(invalid(dotted(namePath), name, problem), [namePath]);
    }
    if (name) {
      const first = firstByName.get(name);
      if (first === undefined) firstByName.set(name, i);
      else ctx.findings.report(duplicate(dotted(namePath), name), [[...at, first, 'name'], namePath]);
    }
    checkType(ctx, ext, extAt);
  });
}
