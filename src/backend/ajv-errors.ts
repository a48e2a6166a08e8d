/**
 * Turns ajv's errors into Kubernetes-style field errors. ajv's own messages never reach users:
 * each keyword gets a message written here, with the offending value where one helps.
 */
import { duplicate, forbidden, invalid, notSupported, required, tooLong, tooMany, typeInvalid, unknownField, type FieldError } from './field-errors.js';
import { dotted, lookup, parsePointer, pointer, type Segment } from './paths.js';

/** The parts of an ajv ErrorObject we read (verbose fields optional). */
export interface AjvErrorLike {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: unknown;
}

/**
 * `dotted` renders Kubernetes field paths (`spec.destination.ports[1]`); `pointer` appends a JSON
 * pointer to the base (`spec.extensions[0].rawConfig/categories/1`), as the spec asks for
 * extension configs.
 */
export type PathStyle = 'dotted' | 'pointer';

export interface AjvConversionOptions {
  /** The validated value, to show offending values and tell array indexes from keys. */
  data?: unknown;
  pathStyle?: PathStyle;
}

/** One converted error and where it sits, relative to the validated value. */
export interface ConvertedAjvError {
  readonly error: FieldError;
  readonly at: Segment[];
  /** The ajv keyword it came from. */
  readonly keyword: string;
}

const INDEX = /^(0|[1-9][0-9]*)$/;

/** Pointer tokens as segments: numbers where the value is an array (or, without data, looks like an index). */
function segmentsOf(instancePath: string, data: unknown, haveData: boolean): Segment[] {
  const out: Segment[] = [];
  let node: unknown = data;
  for (const token of parsePointer(instancePath)) {
    const asIndex = INDEX.test(token) && (haveData ? Array.isArray(node) : true);
    const seg: Segment = asIndex ? Number(token) : token;
    out.push(seg);
    node = haveData ? lookup(node, [seg]).value : undefined;
  }
  return out;
}

function render(base: string, rel: readonly Segment[], style: PathStyle): string {
  if (style === 'pointer') return base + pointer(rel);
  const text = dotted(rel);
  if (!base) return text || '<root>';
  if (!text) return base;
  return text.startsWith('[') ? base + text : `${base}.${text}`;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const schemaNumber = (schema: unknown, key: string): number | undefined =>
  schema !== null && typeof schema === 'object' ? num((schema as Record<string, unknown>)[key]) : undefined;

/** `must be between 1 and 65535, inclusive` when both bounds are known (verbose ajv), else one bound. */
function rangeDetail(e: AjvErrorLike): string {
  const lo = schemaNumber(e.parentSchema, 'minimum');
  const hi = schemaNumber(e.parentSchema, 'maximum');
  if (lo !== undefined && hi !== undefined) return `must be between ${lo} and ${hi}, inclusive`;
  const limit = num(e.params['limit']);
  switch (e.keyword) {
    case 'minimum':
      return `must be greater than or equal to ${limit}`;
    case 'maximum':
      return `must be less than or equal to ${limit}`;
    case 'exclusiveMinimum':
      return `must be greater than ${limit}`;
    default:
      return `must be less than ${limit}`;
  }
}

const typeNames = (t: unknown): string => (Array.isArray(t) ? t.join(' or ') : String(t));
const quoteList = (vs: readonly unknown[]): string[] => vs.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)));

const GENERIC_DETAIL: Record<string, string> = {
  not: 'must not match the schema it is excluded by',
  oneOf: 'must match exactly one of the allowed shapes',
  anyOf: 'must match at least one of the allowed shapes',
  contains: 'must contain an item of the required shape',
  minContains: 'contains too few items of the required shape',
  maxContains: 'contains too many items of the required shape',
};

type Converted = Omit<ConvertedAjvError, 'keyword'>;

function convertOne(e: AjvErrorLike, base: string, style: PathStyle, data: unknown, haveData: boolean): Converted[] {
  const at = segmentsOf(e.instancePath, data, haveData);
  const value = haveData ? lookup(data, at).value : e.data;
  const field = render(base, at, style);
  const p = e.params ?? {};
  const child = (name: string): Converted => {
    const seg = [...at, name];
    return { error: unknownField(render(base, seg, style)), at: seg };
  };
  const missing = (name: string): Converted =>
    style === 'pointer'
      ? // The spec: a missing property of an extension config is reported at the object lacking it.
        { error: required(field, `must have the property ${JSON.stringify(name)}`), at }
      : { error: required(render(base, [...at, name], style)), at: [...at, name] };
  const here = (error: FieldError): Converted[] => [{ error, at }];

  switch (e.keyword) {
    case 'additionalProperties':
      return [child(String(p['additionalProperty']))];
    case 'unevaluatedProperties':
      return [child(String(p['unevaluatedProperty']))];
    case 'required':
    case 'dependentRequired':
      return [missing(String(p['missingProperty']))];
    case 'type':
      return here(typeInvalid(field, value, `must be of type ${typeNames(p['type'])}`));
    case 'enum':
      return here(notSupported(field, value, quoteList(Array.isArray(p['allowedValues']) ? p['allowedValues'] : [])));
    case 'const':
      return here(notSupported(field, value, quoteList([p['allowedValue']])));
    case 'maxLength':
      return here(tooLong(field, num(p['limit']) ?? 0));
    case 'minLength': {
      const limit = num(p['limit']) ?? 0;
      if (value === '') return here(required(field, limit > 1 ? `must be at least ${limit} characters` : undefined));
      return here(invalid(field, value, `must be at least ${limit} characters`));
    }
    case 'maxItems':
      return here(tooMany(field, Array.isArray(value) ? value.length : num(p['limit']) ?? 0, num(p['limit']) ?? 0));
    case 'minItems': {
      const limit = num(p['limit']) ?? 0;
      if (Array.isArray(value) && value.length === 0) return here(required(field, `must have at least ${limit} item${limit === 1 ? '' : 's'}`));
      return here(invalid(field, value, `must have at least ${limit} items`));
    }
    case 'maxProperties':
      return here(tooMany(field, value !== null && typeof value === 'object' ? Object.keys(value).length : 0, num(p['limit']) ?? 0));
    case 'minProperties':
      return here(invalid(field, value, `must have at least ${num(p['limit'])} properties`));
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return here(invalid(field, value, rangeDetail(e)));
    case 'multipleOf':
      return here(invalid(field, value, `must be a multiple of ${num(p['multipleOf'])}`));
    case 'pattern':
      return here(invalid(field, value, `must match the regular expression ${String(p['pattern'])}`));
    case 'format':
      return here(invalid(field, value, p['format'] === 'date' ? 'must be a calendar date YYYY-MM-DD' : `must be a valid ${String(p['format'])}`));
    case 'uniqueItems': {
      // ajv names the later of the two equal items `i`.
      const later = num(p['i']);
      if (later === undefined) return here(invalid(field, value, 'must not contain duplicate items'));
      const seg = [...at, later];
      return [{ error: duplicate(render(base, seg, style), Array.isArray(value) ? value[later] : undefined), at: seg }];
    }
    case 'propertyNames':
      return here(invalid(field, p['propertyName'], 'is not an allowed property name'));
    case 'false schema':
      return here(forbidden(field));
    case 'if':
      return []; // the failing then/else branch reports its own errors
    default:
      return here(invalid(field, value, GENERIC_DETAIL[e.keyword] ?? `does not satisfy the schema's "${e.keyword}" rule`));
  }
}

/** Converts ajv errors, keeping where each sits so callers can ratchet and de-duplicate. */
export function convertAjvErrors(errors: readonly AjvErrorLike[] | null | undefined, basePath: string, options: AjvConversionOptions = {}): ConvertedAjvError[] {
  if (!errors) return [];
  const style = options.pathStyle ?? 'dotted';
  const haveData = 'data' in options;
  const out: ConvertedAjvError[] = [];
  for (const e of errors) {
    if (!e || typeof e.keyword !== 'string' || typeof e.instancePath !== 'string') continue;
    for (const c of convertOne(e, basePath, style, options.data, haveData)) out.push({ ...c, keyword: e.keyword });
  }
  // `protocolOptions: {mcp, foo}` is one unknown field, not also "too many members".
  const unknownParents = new Set(out.filter((c) => c.error.type === 'FieldValueUnknown').map((c) => render(basePath, c.at.slice(0, -1), style)));
  return out.filter((c) => !(c.keyword === 'maxProperties' && unknownParents.has(c.error.field)));
}

/**
 * ajv errors as field errors under `basePath`: `ajvErrorsToFieldErrors(validate.errors, 'spec.extensions[0].rawConfig',
 * { data: rawConfig, pathStyle: 'pointer' })`. Pass `data` (the validated value) when the validator was not compiled
 * with `verbose: true`, so bad values can be shown.
 */
export function ajvErrorsToFieldErrors(errors: readonly AjvErrorLike[] | null | undefined, basePath: string, options: AjvConversionOptions = {}): FieldError[] {
  return convertAjvErrors(errors, basePath, options).map((c) => c.error);
}
