/** What every rule receives. Rules read the object defensively: any value may have any type. */
import type { Findings } from '../issues.js';
import type { ValidationOptions } from '../options.js';
import type { SchemaLookup } from '../../schemas/registry.js';
import type { ReferenceFrom } from '../../references/grants.js';

export interface RuleContext {
  readonly findings: Findings;
  readonly options: ValidationOptions;
  readonly schemas: SchemaLookup;
  /** The judged object's namespace, when known (request namespace, else metadata.namespace). */
  readonly namespace?: string;
  /** The judged object's group, kind and namespace (references are checked from there); absent: not checked. */
  readonly referrer?: ReferenceFrom;
}

/** The key is set (JSON null counts as set; the schema reports its type). */
export const isSet = (o: Record<string, unknown>, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;

export const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
