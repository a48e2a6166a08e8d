/**
 * Compiles one extension schema (the text of a ConfigMap's `schema.json`) into a validator.
 *
 * Schemas come from platform teams, not from us, so compiling them is treated as untrusted input:
 * the text is bounded in size and depth, `pattern`s run on a linear-time engine (a catastrophic
 * regular expression cannot stall the event loop), and `$ref`s to remote documents are never
 * fetched (ajv only resolves what it was given; anything else is a compile error).
 *
 * Patterns: every pattern must compile on RE2 (re2js), which defines what it means and whether it
 * is accepted at all. A pattern then runs on V8's native RegExp instead (several times faster) only when
 * linear-pattern.ts proves it means exactly the same there and cannot backtrack more than linearly:
 * a small RE2 subset (literals, escaped punctuation, `.`, `\d`/`\w`, bracket classes, groups,
 * `|`, `^`/`$`, quantifiers), at most one unbounded quantifier, on a single character, in a pattern
 * starting with `^`, and a bounded number of backtracking steps otherwise. Everything else runs on
 * RE2; verdicts are the same either way.
 */
import { Ajv, type Options as AjvOptions } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { RE2JS } from 're2js';
import { nativeEquivalent } from './linear-pattern.js';
import type { ExtensionConfigValidator } from './registry.js';

export type SchemaCompileErrorCode =
  | 'TooLarge'
  | 'InvalidJSON'
  | 'NotAnObject'
  | 'TooDeep'
  | 'UnsupportedDraft'
  | 'UnsupportedPattern'
  | 'InvalidSchema';

export interface SchemaCompileError {
  readonly code: SchemaCompileErrorCode;
  readonly message: string;
}

export type SchemaCompileResult =
  | { readonly ok: true; readonly validate: ExtensionConfigValidator; readonly draft: SchemaDraft }
  | { readonly ok: false; readonly error: SchemaCompileError };

export type SchemaDraft = '2020-12' | 'draft-07';

export interface SchemaCompileLimits {
  /** Longest schema text accepted, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of objects/arrays accepted. */
  readonly maxDepth: number;
}

export const DEFAULT_COMPILE_LIMITS: SchemaCompileLimits = { maxBytes: 256 * 1024, maxDepth: 64 };

const DRAFT_2020_12 = new Set(['https://json-schema.org/draft/2020-12/schema', 'http://json-schema.org/draft/2020-12/schema']);
const DRAFT_07 = new Set([
  'http://json-schema.org/draft-07/schema',
  'https://json-schema.org/draft-07/schema',
]);

/** ajv-formats' default export is typed for CommonJS; under NodeNext it needs this cast. */
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

/** A typed marker so a pattern the linear-time engine refuses surfaces as its own error code. */
class UnsupportedPatternError extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(`pattern ${JSON.stringify(pattern)} is not supported by the linear-time regular expression engine (RE2 syntax: no lookaround or backreferences): ${reason}`);
  }
}

/**
 * ajv's RegExpEngine: RE2 (re2js) decides what is accepted and means what; the match runs on an
 * equivalent native RegExp when one is proven safe, else on RE2. Matching time is linear either way.
 */
const patternEngine: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern);
    } catch (err) {
      throw new UnsupportedPatternError(pattern, err instanceof Error ? err.message : String(err));
    }
    const native = nativeEquivalent(pattern);
    // ajv caches compiled patterns by toString(): it must be unique per pattern. A wrapper, not the
    // RegExp itself, so the RegExp keeps V8's fast path (an own toString would change its shape).
    const test = native ? (s: string) => native.test(s) : (s: string) => re.test(s);
    return { test, toString: () => `/${pattern}/${flags}` };
  },
  { code: 're2js' },
);

const AJV_OPTIONS: AjvOptions = {
  allErrors: true,
  // Real-world schemas carry unknown keywords (x-*, examples, descriptions in odd places),
  // open tuples and union types; refusing them would only push teams to strip metadata.
  strict: false,
  strictTuples: false,
  strictTypes: false,
  strictRequired: false,
  allowUnionTypes: true,
  validateFormats: true,
  code: { regExp: patternEngine },
  // Never load anything: a `$ref` that is not inside the schema fails compilation.
  loadSchema: undefined,
  // Messages stay short: the admission denial shows them to kubectl users.
  messages: true,
  verbose: false,
  // ajv would console.warn about unknown formats (ignored, as JSON Schema says) at every compile:
  // unstructured lines on stderr, outside our JSON logs, repeated for every schema version.
  logger: false,
};

function draftOf(schema: Record<string, unknown>): SchemaDraft | SchemaCompileError {
  const declared = schema['$schema'];
  if (declared === undefined) return '2020-12';
  if (typeof declared !== 'string') return { code: 'UnsupportedDraft', message: '$schema must be a string' };
  const uri = declared.replace(/#$/, '');
  if (DRAFT_2020_12.has(uri)) return '2020-12';
  if (DRAFT_07.has(uri)) return 'draft-07';
  return {
    code: 'UnsupportedDraft',
    message: `unsupported $schema ${JSON.stringify(declared)}: use https://json-schema.org/draft/2020-12/schema or http://json-schema.org/draft-07/schema#`,
  };
}

/** Nesting depth of a parsed JSON value, stopping as soon as the limit is passed. */
function exceedsDepth(value: unknown, maxDepth: number): boolean {
  // Iterative, so a deep document cannot overflow the stack here.
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > maxDepth) return true;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ v: child, d: d + 1 });
  }
  return false;
}

function newAjv(draft: SchemaDraft, options: AjvOptions = AJV_OPTIONS): Ajv {
  const ajv = draft === '2020-12' ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  return ajv;
}

/**
 * One long-lived ajv per draft checks schemas against the draft's meta-schema: compiling the
 * meta-schema anew for every schema cost ~9 ms and ~100 KB each (13 s and 260 MiB for 1,000).
 * It only validates; no schema is ever added to it, so `$id`s cannot collide there.
 */
const metaCheckers = new Map<SchemaDraft, Ajv>();

function metaSchemaProblem(draft: SchemaDraft, schema: Record<string, unknown>): string | undefined {
  let checker = metaCheckers.get(draft);
  if (!checker) {
    checker = newAjv(draft);
    metaCheckers.set(draft, checker);
  }
  if (checker.validateSchema(schema) === true) return undefined;
  return checker.errorsText(checker.errors, { dataVar: 'schema' });
}

/** Parses text as JSON and checks the shape every extension schema must have. */
export function parseSchemaText(
  text: string,
  limits: SchemaCompileLimits = DEFAULT_COMPILE_LIMITS,
): { ok: true; schema: Record<string, unknown>; draft: SchemaDraft } | { ok: false; error: SchemaCompileError } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    return { ok: false, error: { code: 'TooLarge', message: `schema is ${bytes} bytes, more than the limit of ${limits.maxBytes}` } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: { code: 'InvalidJSON', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` } };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, error: { code: 'NotAnObject', message: 'the schema must be a JSON object' } };
  }
  if (exceedsDepth(parsed, limits.maxDepth)) {
    return { ok: false, error: { code: 'TooDeep', message: `schema nests deeper than ${limits.maxDepth} levels` } };
  }
  const draft = draftOf(parsed as Record<string, unknown>);
  if (typeof draft !== 'string') return { ok: false, error: draft };
  return { ok: true, schema: parsed as Record<string, unknown>, draft };
}

/** Compiles one schema text; never throws. A fresh ajv per schema, so `$id`s of unrelated schemas never collide. */
export function compileExtensionSchema(text: string, limits: SchemaCompileLimits = DEFAULT_COMPILE_LIMITS): SchemaCompileResult {
  const parsed = parseSchemaText(text, limits);
  if (!parsed.ok) return parsed;
  try {
    const problem = metaSchemaProblem(parsed.draft, parsed.schema);
    if (problem !== undefined) return { ok: false, error: { code: 'InvalidSchema', message: `not a compilable schema: ${problem}` } };
    // Checked above: the per-schema instance need not compile the meta-schema again.
    const validate = newAjv(parsed.draft, { ...AJV_OPTIONS, validateSchema: false }).compile(parsed.schema);
    // An async validator answers with a Promise, which is truthy: every config would pass.
    if ((validate as { $async?: unknown }).$async === true) {
      return { ok: false, error: { code: 'InvalidSchema', message: 'not a compilable schema: $async schemas are not supported (validation must be synchronous)' } };
    }
    // The fail-fast twin is compiled only when a config too large for allErrors arrives (rare).
    let firstProblem: ExtensionConfigValidator | undefined;
    Object.defineProperty(validate, 'firstProblem', {
      get: (): ExtensionConfigValidator => {
        firstProblem ??= newAjv(parsed.draft, { ...AJV_OPTIONS, allErrors: false, validateSchema: false }).compile(parsed.schema) as ExtensionConfigValidator;
        return firstProblem;
      },
    });
    return { ok: true, validate: validate as ExtensionConfigValidator, draft: parsed.draft };
  } catch (err) {
    if (err instanceof UnsupportedPatternError) return { ok: false, error: { code: 'UnsupportedPattern', message: err.message } };
    return { ok: false, error: { code: 'InvalidSchema', message: `not a compilable schema: ${err instanceof Error ? err.message : String(err)}` } };
  }
}
