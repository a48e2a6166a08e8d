/**
 * One served kind as one unit (the controller-runtime builder / Kubernetes strategy idea): which
 * group, versions and kinds it is, which operations each endpoint judges, how it is validated
 * (structure + cross-field rules, through the shared pipeline), how it is defaulted, and how
 * platform policies see it. The admission layer, the policy engine, the offline CLI, the metrics
 * and the webhook configurations all look kinds up in the registry (registry.ts); adding a kind is
 * a new folder under src/kinds/ plus one line there.
 */
import type { DefaultingResult } from '../backend/defaults.js';
import type { ValidationOptions } from '../backend/options.js';
import type { Segments } from '../backend/paths.js';
import type { BackendValidationResult } from '../backend/validate.js';
import type { DestinationFacts } from '../policies/match.js';
import type { SchemaLookup } from '../schemas/registry.js';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** The operations a unit can judge; anything else of a served kind is allowed unjudged. */
export type JudgedOperation = 'CREATE' | 'UPDATE' | 'DELETE';

/** The admission endpoints a unit can be served on. */
export type Endpoint = 'validate' | 'mutate';

export interface KindValidationInput {
  readonly object: unknown;
  readonly oldObject?: unknown;
  readonly operation: string;
  /** The object's namespace (the request's, else metadata.namespace). */
  readonly namespace?: string;
}

export type KindValidationResult = BackendValidationResult;

/** Where a policy reads a value of the object, and the value (undefined: absent or not readable). */
export interface ViewedValue<T> {
  readonly at: Segments;
  readonly value: T | undefined;
}

export interface TlsView {
  readonly at: Segments;
  /** The mode in our words (Simple, Mutual, None); undefined when unset or unknown. */
  readonly mode: ViewedValue<string>;
  /** The mode as the object writes it (XBackend: ServerOnly), for messages. */
  readonly written: unknown;
  /** Absent: the kind has no such field, so forbidInsecureSkipVerify does not apply. */
  readonly insecureSkipVerify?: ViewedValue<unknown>;
  /** The name sent as SNI (Backend: tls.sni; XBackend: tls.validation.hostname). */
  readonly sni: ViewedValue<unknown>;
}

export interface PortView {
  readonly at: Segments;
  readonly number: ViewedValue<unknown>;
  readonly protocol: ViewedValue<unknown>;
  /** Where a TLS block goes (and is reported missing). */
  readonly tlsAt: Segments;
  /** The TLS block when it is an object; undefined when absent (plaintext). */
  readonly tls?: TlsView;
}

/** How platform policies see an object of the kind: our words, whatever the kind says. */
export interface PolicyView {
  readonly destination?: {
    readonly facts: DestinationFacts;
    /** Where errors about the destination itself are reported. */
    readonly at: Segments;
    /** What a destination verdict depends on (for ratcheting). */
    readonly scope: readonly Segments[];
  };
  readonly ports: readonly PortView[];
  /** Undefined: the kind has no extensions, so the extension rules do not apply to it. */
  readonly extensions?: ReadonlyArray<{ readonly at: Segments; readonly type: string }>;
}

export interface KindPolicies {
  view(object: unknown, namespace: string | undefined): PolicyView;
  /** Policy `defaults` (TLS mode, CA bundles, extensions) are written for this kind's shape. */
  readonly defaults: boolean;
  /** Override rules that mean nothing for this kind (listed on GET /policies). */
  readonly notApplied: readonly string[];
}

export interface KindDefaulting {
  /** The defaulting patch (never throws; idempotent; never touches a set field). */
  patch(object: unknown): DefaultingResult;
  /** The same defaults, in place on a copy; the dotted paths set (to compose with policy defaults). */
  apply(copy: unknown): string[];
}

export interface KindUnit {
  /** A short name for logs and docs, e.g. `Backend`. */
  readonly name: string;
  readonly group: string;
  readonly versions: readonly string[];
  /** Kinds and their resource plurals (webhook rules, metrics). */
  readonly kinds: ReadonlyArray<{ readonly kind: string; readonly resource: string }>;
  readonly scope: 'Namespaced' | 'Cluster';
  /** Which operations each endpoint judges; an endpoint not listed does not serve the kind. */
  readonly judges: Readonly<Partial<Record<Endpoint, readonly JudgedOperation[]>>>;
  /** Judges `input.object` (any value: never throws); ratchets on UPDATE. */
  validate(input: KindValidationInput, schemas: SchemaLookup, options: ValidationOptions): KindValidationResult;
  readonly defaults?: KindDefaulting;
  /** Absent: platform policies do not apply to the kind. */
  readonly policies?: KindPolicies;
}

export const servesGvk = (unit: KindUnit, gvk: GroupVersionKind): boolean =>
  gvk.group === unit.group && unit.versions.includes(gvk.version) && unit.kinds.some((k) => k.kind === gvk.kind);

export const describeUnit = (unit: KindUnit): string => `${unit.group}/${unit.versions.join(',')} ${unit.kinds.map((k) => k.kind).join(' and ')}`;
