/**
 * The platform-policy ConfigMap format: label, key, the policy document (YAML in
 * `data["policy.yaml"]`, shaped by schemas/backend-policy.schema.json) and its checks. Parsing and
 * checking never throw; every problem is a FieldError under `data[policy.yaml]/<json pointer>`, so
 * the ConfigMap webhook can refuse a broken policy with the reason.
 */
import { readFileSync } from 'node:fs';
import type { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { convertAjvErrors } from '../backend/ajv-errors.js';
import { type FieldError, forbidden, invalid, required, tooLong } from '../backend/field-errors.js';
import { pointer, type Segments } from '../backend/paths.js';
import { findPrototypeKeys } from '../backend/prototype-keys.js';
import { hostnameSyntaxProblem, resolvesAsIPv4 } from '../backend/rules/hostnames.js';
import { parseCidr } from '../backend/rules/ip.js';
import { dns1123SubdomainProblem } from '../backend/rules/names.js';
import { subjectAltNameProblem, type TlsMode } from '../backend/rules/tls.js';
import type { ConfigMapObject } from '../schemas/source.js';

export const POLICY_LABEL = 'ainetworking.prototype.x-k8s.io/backend-policy';
/** Label selector the sources use to find policy ConfigMaps. */
export const POLICY_SELECTOR = `${POLICY_LABEL}=true`;
export const POLICY_KEY = 'policy.yaml';
export const POLICY_FIELD = `data[${POLICY_KEY}]`;
/** A policy is a page of YAML; anything near this is a mistake (or an attack on the parser). */
export const MAX_POLICY_BYTES = 256 * 1024;

// src/policies/ under vitest and dist/policies/ under node are both two levels below the repo root.
export const POLICY_SCHEMA_URL = new URL('../../schemas/backend-policy.schema.json', import.meta.url);
export const POLICY_SCHEMA: Readonly<Record<string, unknown>> = JSON.parse(readFileSync(POLICY_SCHEMA_URL, 'utf8')) as Record<string, unknown>;

// strictRequired off: `if/then` requires a property declared in the parent, which strict mode cannot see.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true });
const validateDocument = ajv.compile(POLICY_SCHEMA) as ReturnType<Ajv['compile']>;

export type PolicyAction = 'deny' | 'warn';

export interface ServicePattern {
  name?: string;
  namespace?: string;
}

export interface DestinationCriteria {
  hosts?: string[];
  cidrs?: string[];
  services?: ServicePattern[];
}

export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export interface RuleAction {
  action?: PolicyAction;
}

export interface PolicyReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

export interface DefaultExtension {
  name: string;
  type: string;
  rawConfig?: Record<string, unknown>;
}

/** The document in `policy.yaml`, as the JSON Schema admits it. */
export interface PolicyDocument {
  description?: string;
  match?: DestinationCriteria & { namespaceSelector?: LabelSelectorSpec };
  overrides?: {
    allowedTlsModes?: RuleAction & { modes: TlsMode[] };
    forbidInsecureSkipVerify?: RuleAction;
    requireSniMatchesHostname?: RuleAction;
    allowedPorts?: RuleAction & { ports: number[] };
    allowedProtocols?: RuleAction & { protocols: string[] };
    requiredExtensions?: RuleAction & { types: string[] };
    forbiddenExtensions?: RuleAction & { types: string[] };
    deniedDestinations?: RuleAction & DestinationCriteria;
    allowedDestinations?: RuleAction & DestinationCriteria;
  };
  defaults?: {
    tlsMode?: TlsMode;
    clientCertificateRef?: PolicyReference;
    caBundleRef?: PolicyReference[];
    subjectAltNames?: string[];
    extensions?: DefaultExtension[];
  };
}

export type OverrideRule = keyof NonNullable<PolicyDocument['overrides']>;
export type DefaultField = keyof NonNullable<PolicyDocument['defaults']>;

const at = (segments: Segments): string => POLICY_FIELD + pointer(segments);

/** Version-less extension type (`x.io/Kind:v1` -> `x.io/Kind`). */
export const extensionKind = (type: string): string => type.replace(/:v[0-9]+$/, '');

/** Checks JSON Schema cannot express: host and range syntax, references, self-contradictions. */
function semanticProblems(doc: PolicyDocument): FieldError[] {
  const errors: FieldError[] = [];
  const checkCriteria = (c: DestinationCriteria | undefined, base: Segments): void => {
    c?.hosts?.forEach((host, i) => {
      const wildcard = host.startsWith('*.');
      const name = wildcard ? host.slice(2) : host;
      // A pattern a resolver reads as an IPv4 address (127.1, 0x7f.1, 2852039166) matches no hostname the webhook admits.
      const address = resolvesAsIPv4(name);
      if (address !== undefined) {
        const what = wildcard ? 'the suffix after *. is' : 'is';
        errors.push(invalid(at([...base, 'hosts', i]), host, `${what} an IP address spelling (${address}): hosts match DNS names; use cidrs for addresses`));
        return;
      }
      const problem = wildcard ? dns1123SubdomainProblem(name) : hostnameSyntaxProblem(host);
      if (problem) errors.push(invalid(at([...base, 'hosts', i]), host, wildcard ? `the suffix after *. ${problem}` : problem));
    });
    c?.cidrs?.forEach((text, i) => {
      if (!parseCidr(text)) errors.push(invalid(at([...base, 'cidrs', i]), text, 'must be an IPv4 or IPv6 range in CIDR notation, e.g. 10.0.0.0/8'));
    });
  };
  checkCriteria(doc.match, ['match']);
  checkCriteria(doc.overrides?.deniedDestinations, ['overrides', 'deniedDestinations']);
  checkCriteria(doc.overrides?.allowedDestinations, ['overrides', 'allowedDestinations']);

  const requiredKinds = new Set((doc.overrides?.requiredExtensions?.types ?? []).map(extensionKind));
  doc.overrides?.forbiddenExtensions?.types.forEach((type, i) => {
    if (requiredKinds.has(extensionKind(type))) {
      errors.push(invalid(at(['overrides', 'forbiddenExtensions', 'types', i]), type, 'is also in overrides.requiredExtensions'));
    }
  });

  const defaults = doc.defaults;
  const allowed = doc.overrides?.allowedTlsModes?.modes;
  if (defaults?.tlsMode !== undefined && allowed && !allowed.includes(defaults.tlsMode)) {
    errors.push(invalid(at(['defaults', 'tlsMode']), defaults.tlsMode, 'is not among this policy\'s overrides.allowedTlsModes'));
  }
  defaults?.caBundleRef?.forEach((ref, i) => {
    const base = ['defaults', 'caBundleRef', i];
    if (ref.kind === 'ClusterTrustBundle') {
      if (ref.group !== 'certificates.k8s.io') errors.push(invalid(at([...base, 'group']), ref.group ?? '', 'must be certificates.k8s.io for ClusterTrustBundle'));
      if (ref.namespace !== undefined) errors.push(invalid(at([...base, 'namespace']), ref.namespace, 'ClusterTrustBundle is cluster-scoped'));
    } else if (ref.group !== undefined && ref.group !== '') {
      errors.push(invalid(at([...base, 'group']), ref.group, `${ref.kind ?? 'ConfigMap'} is in the core group`));
    }
  });
  defaults?.subjectAltNames?.forEach((san, i) => {
    const problem = subjectAltNameProblem(san);
    if (problem) errors.push(invalid(at(['defaults', 'subjectAltNames', i]), san, problem));
  });
  const names = new Set<string>();
  const kinds = new Set<string>();
  defaults?.extensions?.forEach((ext, i) => {
    if (names.has(ext.name)) errors.push(invalid(at(['defaults', 'extensions', i, 'name']), ext.name, 'is used by an earlier default extension'));
    if (kinds.has(extensionKind(ext.type))) errors.push(invalid(at(['defaults', 'extensions', i, 'type']), ext.type, 'an earlier default extension has this type'));
    names.add(ext.name);
    kinds.add(extensionKind(ext.type));
  });
  return errors;
}

export type PolicyParseResult = { ok: true; document: PolicyDocument } | { ok: false; errors: FieldError[] };

/** Parses and checks one policy text; never throws. */
export function parsePolicyText(text: string): PolicyParseResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_POLICY_BYTES) return { ok: false, errors: [tooLong(POLICY_FIELD, MAX_POLICY_BYTES)] };
  let value: unknown;
  try {
    const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) return { ok: false, errors: [invalid(POLICY_FIELD, undefined, `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`)] };
    // Aliases bounded: a billion-laughs document must not expand.
    value = doc.toJS({ maxAliasCount: 64 });
  } catch (err) {
    return { ok: false, errors: [invalid(POLICY_FIELD, undefined, `not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)] };
  }
  if (value === null || value === undefined) value = {};
  // A default extension's rawConfig is copied into Backends, which refuse such keys: refuse them here first.
  const pollution = findPrototypeKeys(value);
  if (pollution.length > 0) return { ok: false, errors: pollution.map((k) => forbidden(`${POLICY_FIELD}${pointer(k.at)}`, k.detail)) };
  let valid: boolean;
  try {
    valid = validateDocument(value) as boolean;
  } catch {
    return { ok: false, errors: [invalid(POLICY_FIELD, undefined, 'could not be checked (too deeply nested?)')] };
  }
  if (!valid) {
    const errors = convertAjvErrors(validateDocument.errors, POLICY_FIELD, { data: value, pathStyle: 'pointer' }).map((c) => c.error);
    return { ok: false, errors: errors.length > 0 ? errors : [invalid(POLICY_FIELD, undefined, 'does not match schemas/backend-policy.schema.json')] };
  }
  const document = value as PolicyDocument;
  const problems = semanticProblems(document);
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, document };
}

/** Reads `data["policy.yaml"]` of a policy ConfigMap. */
export function readPolicyConfigMap(cm: ConfigMapObject): PolicyParseResult {
  const text = cm.data?.[POLICY_KEY];
  if (text === undefined || text.trim() === '') return { ok: false, errors: [required(POLICY_FIELD, 'a backend policy document (YAML); see schemas/backend-policy.schema.json')] };
  return parsePolicyText(text);
}

/**
 * The ConfigMap webhook's reviewer for policy ConfigMaps: refuse a broken policy at the door. See
 * policyReviewerWith (default-extensions.ts) for the one that also checks default extensions.
 */
export const policyReviewer = {
  label: POLICY_LABEL,
  what: 'backend policy',
  review: (cm: ConfigMapObject): FieldError[] => {
    const read = readPolicyConfigMap(cm);
    return read.ok ? [] : read.errors;
  },
};
