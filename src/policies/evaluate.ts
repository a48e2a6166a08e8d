/**
 * Platform-policy overrides as a pure function of (object, old object, namespace, policy set,
 * namespace labels): which policies apply, which one decides each rule, and the denials and
 * warnings that follow. Every message names the policy (`namespace/name`) and the rule.
 */
import { type FieldError, forbidden, invalid, required, sortFieldErrors } from '../backend/field-errors.js';
import { dotted, isPlainObject, unchangedAt, type Segments } from '../backend/paths.js';
import { boundedWarning, ratchetWarning } from '../backend/validate.js';
import { MAX_EXTENSIONS, MAX_PORTS } from '../backend/limits.js';
import { extensionKind, type PolicyAction, type PolicyDocument } from './format.js';
import {
  compareSpecificity,
  describeDestination,
  destinationFacts,
  type DestinationFacts,
  evaluateNamespaceSelector,
  MATCH_ALL,
  matchDestination,
  type NamespaceLabelLookup,
  type Specificity,
} from './match.js';
import { actionOf, type CompiledPolicy, type PolicySet, type PolicySetting } from './policy-set.js';

export type DecisionAction = PolicyAction | 'default';

/** One policy decision, for metrics (`policyDecisions{policy, rule, action}`) and audit. */
export interface PolicyDecision {
  readonly policy: string;
  readonly rule: string;
  readonly action: DecisionAction;
}

/** What the admission handlers need to apply policies. */
export interface PolicyContext {
  readonly policies: PolicySet;
  readonly namespaces: NamespaceLabelLookup;
  /** Counts decisions (metrics). Evaluation stays pure; the caller decides what recording means. */
  readonly record?: (decisions: readonly PolicyDecision[]) => void;
}

export interface ApplicablePolicy {
  readonly policy: CompiledPolicy;
  readonly specificity: Specificity;
  /** The namespace selector could not be evaluated (labels unknown): enforced, never used for defaults. */
  readonly undetermined: boolean;
}

/** The Backend's namespace: the request's, else the object's own. */
export function backendNamespace(object: unknown, requestNamespace: string | undefined): string | undefined {
  if (requestNamespace) return requestNamespace;
  const meta = isPlainObject(object) ? object['metadata'] : undefined;
  const ns = isPlainObject(meta) ? meta['namespace'] : undefined;
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

/** Matching policies, most specific first, then by name. */
export function applicablePolicies(object: unknown, namespace: string | undefined, policies: PolicySet, namespaces: NamespaceLabelLookup): ApplicablePolicy[] {
  const dest = destinationFacts(object, namespace);
  const out: ApplicablePolicy[] = [];
  for (const policy of policies.policies) {
    let specificity: Specificity | undefined = MATCH_ALL;
    if (policy.destinations) specificity = dest ? matchDestination(policy.destinations, dest) : undefined;
    if (!specificity) continue;
    const verdict = policy.namespaceSelector ? evaluateNamespaceSelector(policy.namespaceSelector, namespace, namespaces) : 'match';
    if (verdict === 'nomatch') continue;
    out.push({ policy, specificity, undetermined: verdict === 'unknown' });
  }
  // policies.policies is in name order and sort is stable: ties stay in name order.
  return out.sort((a, b) => compareSpecificity(a.specificity, b.specificity));
}

export interface Winner {
  readonly applicable: ApplicablePolicy;
  readonly setting: PolicySetting;
}

/** For each setting key, the first (most specific, then by name) applicable policy that sets it. */
export function winners(applicable: readonly ApplicablePolicy[], include: (key: string) => boolean): Map<string, Winner> {
  const out = new Map<string, Winner>();
  for (const a of applicable) {
    for (const setting of a.policy.settings) {
      if (include(setting.key) && !out.has(setting.key)) out.set(setting.key, { applicable: a, setting });
    }
  }
  return out;
}

/** One broken rule at one field, before it becomes a denial or a warning. */
interface Breach {
  readonly at: Segments;
  readonly kind: 'invalid' | 'forbidden' | 'required';
  readonly badValue?: unknown;
  /** Says what is wrong without the policy (added later), e.g. `mode "None" is not allowed (allowed: Simple)`. */
  readonly problem: string;
  /** Values the breach depends on: unchanged on UPDATE means ratcheted (a warning). */
  readonly scope: readonly Segments[];
}

type Ports = Array<{ at: Segments; port: Record<string, unknown> }>;

function portsOf(object: unknown): Ports {
  const spec = isPlainObject(object) ? object['spec'] : undefined;
  const dest = isPlainObject(spec) ? spec['destination'] : undefined;
  const ports = isPlainObject(dest) ? dest['ports'] : undefined;
  if (!Array.isArray(ports)) return [];
  // Past MAX_PORTS the object is refused (TooMany) whatever policies say: judge no more than that.
  return (ports.length > MAX_PORTS ? ports.slice(0, MAX_PORTS) : ports).flatMap((port: unknown, i) => (isPlainObject(port) ? [{ at: ['spec', 'destination', 'ports', i] as Segments, port }] : []));
}

function extensionsOf(object: unknown): Array<{ at: Segments; type: string }> {
  const spec = isPlainObject(object) ? object['spec'] : undefined;
  const exts = isPlainObject(spec) ? spec['extensions'] : undefined;
  if (!Array.isArray(exts)) return [];
  return (exts.length > MAX_EXTENSIONS ? exts.slice(0, MAX_EXTENSIONS) : exts).flatMap((e: unknown, i) => (isPlainObject(e) && typeof e['type'] === 'string' ? [{ at: ['spec', 'extensions', i] as Segments, type: e['type'] }] : []));
}

/** A type without `:vN` stands for every version of its kind. */
export const typeMatches = (pattern: string, type: string): boolean => (pattern === extensionKind(pattern) ? extensionKind(type) === pattern : type === pattern);

const list = (values: readonly unknown[]): string => values.map(String).join(', ');

type Overrides = NonNullable<PolicyDocument['overrides']>;

/** Each rule's check: the breaches of one setting by one object. */
function breachesOf(policy: CompiledPolicy, setting: PolicySetting, object: unknown, dest: DestinationFacts | undefined): Breach[] {
  const ports = portsOf(object);
  const out: Breach[] = [];
  switch (setting.rule) {
    case 'allowedTlsModes': {
      const modes = (setting.value as NonNullable<Overrides['allowedTlsModes']>).modes as string[];
      for (const { at, port } of ports) {
        const tls = port['tls'];
        if (!isPlainObject(tls)) {
          // No tls block after defaulting: plaintext, i.e. mode None in effect.
          if (!modes.includes('None')) out.push({ at: [...at, 'tls'], kind: 'required', problem: `TLS is required (allowed modes: ${list(modes)})`, scope: [[...at, 'tls']] });
          continue;
        }
        const mode = tls['mode'];
        if (typeof mode === 'string' && !modes.includes(mode)) {
          out.push({ at: [...at, 'tls', 'mode'], kind: 'invalid', badValue: mode, problem: `mode ${mode} is not allowed (allowed: ${list(modes)})`, scope: [[...at, 'tls', 'mode']] });
        }
      }
      return out;
    }
    case 'forbidInsecureSkipVerify':
      for (const { at, port } of ports) {
        const tls = port['tls'];
        if (isPlainObject(tls) && tls['insecureSkipVerify'] === true) {
          const field = [...at, 'tls', 'insecureSkipVerify'];
          out.push({ at: field, kind: 'forbidden', problem: 'must not be true (certificate verification is required)', scope: [field] });
        }
      }
      return out;
    case 'requireSniMatchesHostname':
      if (dest?.type !== 'Fqdn') return out;
      for (const { at, port } of ports) {
        const tls = port['tls'];
        if (!isPlainObject(tls) || tls['mode'] === 'None') continue;
        const field = [...at, 'tls', 'sni'];
        const sni = tls['sni'];
        const scope = [field, ['spec', 'destination', 'fqdn', 'hostname']];
        if (sni === undefined) out.push({ at: field, kind: 'required', problem: `SNI must be set to the hostname ${dest.host}`, scope });
        else if (sni !== dest.host) out.push({ at: field, kind: 'invalid', badValue: sni, problem: `SNI must equal the hostname ${dest.host}`, scope });
      }
      return out;
    case 'allowedPorts': {
      const allowed = (setting.value as NonNullable<Overrides['allowedPorts']>).ports;
      for (const { at, port } of ports) {
        const n = port['number'];
        if (typeof n === 'number' && !allowed.includes(n)) out.push({ at: [...at, 'number'], kind: 'invalid', badValue: n, problem: `port ${n} is not allowed (allowed: ${list(allowed)})`, scope: [[...at, 'number']] });
      }
      return out;
    }
    case 'allowedProtocols': {
      const allowed = (setting.value as NonNullable<Overrides['allowedProtocols']>).protocols;
      for (const { at, port } of ports) {
        const p = port['protocol'];
        if (typeof p === 'string' && !allowed.includes(p)) {
          out.push({ at: [...at, 'protocol'], kind: 'invalid', badValue: p, problem: `protocol ${p} is not allowed (allowed: ${list(allowed)})`, scope: [[...at, 'protocol']] });
        }
      }
      return out;
    }
    case 'deniedDestinations':
    case 'allowedDestinations':
      return dest ? destinationBreach(policy, setting.rule, dest) : out;
    case 'requiredExtensions': {
      const { type } = setting.value as { type: string };
      if (!extensionsOf(object).some((e) => typeMatches(type, e.type))) {
        out.push({ at: ['spec', 'extensions'], kind: 'required', problem: `an extension of type ${type} is required`, scope: [['spec', 'extensions']] });
      }
      return out;
    }
    case 'forbiddenExtensions': {
      const { type } = setting.value as { type: string };
      for (const e of extensionsOf(object)) {
        if (typeMatches(type, e.type)) out.push({ at: [...e.at, 'type'], kind: 'forbidden', problem: `extensions of type ${type} are not allowed`, scope: [[...e.at, 'type']] });
      }
      return out;
    }
    default:
      return out;
  }
}

/** The matchers are compiled on the policy; the setting only carries the document's text. */
function destinationBreach(policy: CompiledPolicy, which: 'deniedDestinations' | 'allowedDestinations', dest: DestinationFacts): Breach[] {
  const matcher = policy[which];
  if (!matcher) return [];
  const hit = matchDestination(matcher, dest) !== undefined;
  const at = destinationPath(dest);
  const scope = [['spec', 'destination']];
  if (which === 'deniedDestinations' && hit) return [{ at, kind: 'forbidden', problem: `${describeDestination(dest)} may not be reached`, scope }];
  if (which === 'allowedDestinations' && !hit) return [{ at, kind: 'forbidden', problem: `${describeDestination(dest)} is not an allowed destination`, scope }];
  return [];
}

function destinationPath(dest: DestinationFacts): Segments {
  if (dest.type === 'Fqdn') return ['spec', 'destination', 'fqdn', 'hostname'];
  if (dest.type === 'Ip') return ['spec', 'destination', 'ip', 'address'];
  return ['spec', 'destination', 'service'];
}

export interface OverrideInput {
  readonly object: unknown;
  readonly oldObject?: unknown;
  readonly operation: string;
  /** The Backend's namespace (request namespace, else metadata.namespace). */
  readonly namespace?: string;
}

export interface OverrideVerdict {
  /** Denials (action deny), sorted by field. */
  readonly errors: FieldError[];
  /** Warnings: action warn, and deny breaches ratcheted on UPDATE. Each under 120 characters. */
  readonly warnings: string[];
  /** Deny breaches in values unchanged since oldObject: said, not enforced. */
  readonly ratcheted: FieldError[];
  /** One per (policy, rule, action) that fired. */
  readonly decisions: PolicyDecision[];
}

const EMPTY_VERDICT: OverrideVerdict = Object.freeze({ errors: [], warnings: [], ratcheted: [], decisions: [] }) as unknown as OverrideVerdict;

function fieldError(b: Breach, detail: string): FieldError {
  const field = dotted(b.at);
  if (b.kind === 'required') return required(field, detail);
  if (b.kind === 'forbidden') return forbidden(field, detail);
  return invalid(field, b.badValue, detail);
}

/** `ports[0].tls.mode` rather than `spec.destination.ports[0].tls.mode`: warnings are short. */
const shortField = (at: Segments): string => dotted(at[0] === 'spec' && at[1] === 'destination' && at.length > 2 ? at.slice(2) : at.slice(at[0] === 'spec' ? 1 : 0));

export function evaluateOverrides(input: OverrideInput, ctx: Pick<PolicyContext, 'policies' | 'namespaces'>): OverrideVerdict {
  if (ctx.policies.size === 0) return EMPTY_VERDICT;
  const applicable = applicablePolicies(input.object, input.namespace, ctx.policies, ctx.namespaces);
  if (applicable.length === 0) return EMPTY_VERDICT;
  const dest = destinationFacts(input.object, input.namespace);
  const ratchet = input.operation === 'UPDATE' && isPlainObject(input.oldObject);

  const errors: FieldError[] = [];
  const ratcheted: FieldError[] = [];
  const warnings: string[] = [];
  const decisions = new Map<string, PolicyDecision>();
  for (const { applicable: a, setting } of winners(applicable, (k) => k.startsWith('overrides.')).values()) {
    const breaches = breachesOf(a.policy, setting, input.object, dest);
    if (breaches.length === 0) continue;
    const action = actionOf(setting.value as { action?: PolicyAction });
    const ref = a.policy.ref;
    const unknownNs = a.undetermined ? `; labels of namespace ${input.namespace ?? '(none)'} are unknown, so its namespace selector was not evaluated and it is enforced` : '';
    const ruleLabel = a.undetermined ? `${setting.rule}, namespace unknown` : setting.rule;
    for (const b of breaches) {
      if (action === 'warn') {
        warnings.push(boundedWarning(`policy ${ref} (${ruleLabel}): ${shortField(b.at)}: ${b.problem}`));
        continue;
      }
      const error = fieldError(b, `policy ${ref} (${setting.rule}): ${b.problem}${unknownNs}`);
      if (ratchet && b.scope.every((p) => unchangedAt(input.object, input.oldObject, p))) {
        ratcheted.push(error);
        warnings.push(ratchetWarning(error));
      } else {
        errors.push(error);
      }
    }
    decisions.set(`${ref}\u0000${setting.rule}\u0000${action}`, { policy: ref, rule: setting.rule, action });
  }
  return { errors: sortFieldErrors(errors), warnings: [...new Set(warnings)], ratcheted: sortFieldErrors(ratcheted), decisions: [...decisions.values()] };
}
