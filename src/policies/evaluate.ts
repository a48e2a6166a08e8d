/**
 * Platform-policy overrides as a pure function of (object, old object, namespace, policy set,
 * namespace labels): which policies apply, which one decides each rule, and the denials and
 * warnings that follow. Every message names the policy (`namespace/name`) and the rule.
 */
import { errorBody, type FieldError, forbidden, invalid, required, sortFieldErrors } from '../backend/field-errors.js';
import { dotted, isPlainObject, unchangedAt, type Segments } from '../backend/paths.js';
import { extensionKind, type PolicyAction, type PolicyDocument } from './format.js';
import { BACKEND_UNIT } from '../kinds/backend/index.js';
import type { KindUnit, PolicyView, TlsView } from '../kinds/unit.js';
import {
  compareSpecificity,
  describeDestination,
  evaluateNamespaceSelector,
  MATCH_ALL,
  matchDestination,
  type NamespaceLabelLookup,
  type Specificity,
} from './match.js';
import { actionOf, type CompiledPolicy, type PolicySet, type PolicySetting } from './policy-set.js';
import { policyWarning } from './warning-text.js';

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

/** How policies see `object` of the unit's kind; undefined when policies do not apply to it. */
const policyViewOf = (object: unknown, namespace: string | undefined, unit: KindUnit = BACKEND_UNIT): PolicyView | undefined => unit.policies?.view(object, namespace);

/** Matching policies, most specific first, then by name. */
export function applicablePolicies(object: unknown, namespace: string | undefined, policies: PolicySet, namespaces: NamespaceLabelLookup, unit?: KindUnit): ApplicablePolicy[] {
  const view = policyViewOf(object, namespace, unit);
  return view ? applicableTo(view, namespace, policies, namespaces) : [];
}

function applicableTo(view: PolicyView, namespace: string | undefined, policies: PolicySet, namespaces: NamespaceLabelLookup): ApplicablePolicy[] {
  const dest = view.destination?.facts;
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

/** A type without `:vN` stands for every version of its kind. */
export const typeMatches = (pattern: string, type: string): boolean => (pattern === extensionKind(pattern) ? extensionKind(type) === pattern : type === pattern);

const list = (values: readonly unknown[]): string => values.map(String).join(', ');

type Overrides = NonNullable<PolicyDocument['overrides']>;

/** `ServerOnly (Simple)` when the kind writes the mode in its own words. */
const modeText = (tls: TlsView): string => (tls.written === tls.mode.value ? String(tls.mode.value) : `${String(tls.written)} (${String(tls.mode.value)})`);

/** Each rule's check: the breaches of one setting by one object, as its kind's view shows it. */
function breachesOf(policy: CompiledPolicy, setting: PolicySetting, view: PolicyView): Breach[] {
  const ports = view.ports;
  const dest = view.destination?.facts;
  const out: Breach[] = [];
  switch (setting.rule) {
    case 'allowedTlsModes': {
      const modes = (setting.value as NonNullable<Overrides['allowedTlsModes']>).modes as string[];
      for (const { tlsAt, tls } of ports) {
        if (!tls) {
          // No tls block after defaulting: plaintext, i.e. mode None in effect.
          if (!modes.includes('None')) out.push({ at: tlsAt, kind: 'required', problem: `TLS is required (allowed modes: ${list(modes)})`, scope: [tlsAt] });
          continue;
        }
        const mode = tls.mode.value;
        if (typeof mode === 'string' && !modes.includes(mode)) {
          out.push({ at: tls.mode.at, kind: 'invalid', badValue: tls.written, problem: `mode ${modeText(tls)} is not allowed (allowed: ${list(modes)})`, scope: [tls.mode.at] });
        }
      }
      return out;
    }
    case 'forbidInsecureSkipVerify':
      for (const { tls } of ports) {
        const skip = tls?.insecureSkipVerify;
        if (skip?.value === true) out.push({ at: skip.at, kind: 'forbidden', problem: 'must not be true (certificate verification is required)', scope: [skip.at] });
      }
      return out;
    case 'requireSniMatchesHostname':
      if (dest?.type !== 'Fqdn') return out;
      for (const { tls } of ports) {
        if (!tls || tls.mode.value === 'None') continue;
        const field = tls.sni.at;
        const sni = tls.sni.value;
        const scope = [field, view.destination!.at];
        if (sni === undefined) out.push({ at: field, kind: 'required', problem: `SNI must be set to the hostname ${dest.host}`, scope });
        else if (sni !== dest.host) out.push({ at: field, kind: 'invalid', badValue: sni, problem: `SNI must equal the hostname ${dest.host}`, scope });
      }
      return out;
    case 'allowedPorts': {
      const allowed = (setting.value as NonNullable<Overrides['allowedPorts']>).ports;
      for (const { number } of ports) {
        const n = number.value;
        if (typeof n === 'number' && !allowed.includes(n)) out.push({ at: number.at, kind: 'invalid', badValue: n, problem: `port ${n} is not allowed (allowed: ${list(allowed)})`, scope: [number.at] });
      }
      return out;
    }
    case 'allowedProtocols': {
      const allowed = (setting.value as NonNullable<Overrides['allowedProtocols']>).protocols;
      for (const { protocol } of ports) {
        const p = protocol.value;
        if (typeof p === 'string' && !allowed.includes(p)) {
          out.push({ at: protocol.at, kind: 'invalid', badValue: p, problem: `protocol ${p} is not allowed (allowed: ${list(allowed)})`, scope: [protocol.at] });
        }
      }
      return out;
    }
    case 'deniedDestinations':
    case 'allowedDestinations':
      return view.destination ? destinationBreach(policy, setting.rule, view.destination) : out;
    case 'requiredExtensions': {
      if (!view.extensions) return out; // the kind has no extensions
      const { type } = setting.value as { type: string };
      if (!view.extensions.some((e) => typeMatches(type, e.type))) {
        out.push({ at: ['spec', 'extensions'], kind: 'required', problem: `an extension of type ${type} is required`, scope: [['spec', 'extensions']] });
      }
      return out;
    }
    case 'forbiddenExtensions': {
      const { type } = setting.value as { type: string };
      for (const e of view.extensions ?? []) {
        if (typeMatches(type, e.type)) out.push({ at: [...e.at, 'type'], kind: 'forbidden', problem: `extensions of type ${type} are not allowed`, scope: [[...e.at, 'type']] });
      }
      return out;
    }
    default:
      return out;
  }
}

/** The matchers are compiled on the policy; the setting only carries the document's text. */
function destinationBreach(policy: CompiledPolicy, which: 'deniedDestinations' | 'allowedDestinations', destination: NonNullable<PolicyView['destination']>): Breach[] {
  const matcher = policy[which];
  if (!matcher) return [];
  const dest = destination.facts;
  const hit = matchDestination(matcher, dest) !== undefined;
  const { at, scope } = destination;
  if (which === 'deniedDestinations' && hit) return [{ at, kind: 'forbidden', problem: `${describeDestination(dest)} may not be reached`, scope }];
  if (which === 'allowedDestinations' && !hit) return [{ at, kind: 'forbidden', problem: `${describeDestination(dest)} is not an allowed destination`, scope }];
  return [];
}

export interface OverrideInput {
  readonly object: unknown;
  readonly oldObject?: unknown;
  readonly operation: string;
  /** The Backend's namespace (request namespace, else metadata.namespace). */
  readonly namespace?: string;
  /** The object's kind; absent: Backend. */
  readonly unit?: KindUnit;
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

/** One deny or warn breach of one winning setting, with the text it is reported with. */
interface Judged {
  readonly breach: Breach;
  readonly action: PolicyAction;
  readonly ref: string;
  readonly rule: string;
  /** The rule as warnings name it (", namespace unknown" when the selector was not evaluated). */
  readonly ruleLabel: string;
  /** The denial, for deny breaches. */
  readonly error?: FieldError;
  /** The warning, for warn breaches. */
  readonly warning?: string;
}

function judgeOverrides(object: unknown, namespace: string | undefined, unit: KindUnit | undefined, ctx: Pick<PolicyContext, 'policies' | 'namespaces'>): Judged[] {
  const view = policyViewOf(object, namespace, unit);
  if (!view) return [];
  const applicable = applicableTo(view, namespace, ctx.policies, ctx.namespaces);
  if (applicable.length === 0) return [];
  const out: Judged[] = [];
  for (const { applicable: a, setting } of winners(applicable, (k) => k.startsWith('overrides.')).values()) {
    const breaches = breachesOf(a.policy, setting, view);
    if (breaches.length === 0) continue;
    const action = actionOf(setting.value as { action?: PolicyAction });
    const ref = a.policy.ref;
    const unknownNs = a.undetermined ? `; labels of namespace ${namespace ?? '(none)'} are unknown, so its namespace selector was not evaluated and it is enforced` : '';
    const ruleLabel = a.undetermined ? `${setting.rule}, namespace unknown` : setting.rule;
    for (const b of breaches) {
      if (action === 'warn') out.push({ breach: b, action, ref, rule: setting.rule, ruleLabel, warning: policyWarning({ policy: ref, rule: ruleLabel, field: shortField(b.at), problem: b.problem }) });
      else out.push({ breach: b, action, ref, rule: setting.rule, ruleLabel, error: fieldError(b, `policy ${ref} (${setting.rule}): ${b.problem}${unknownNs}`) });
    }
  }
  return out;
}

const errorKey = (e: FieldError): string => `${e.type}\u0000${e.field}\u0000${errorBody(e)}`;

export function evaluateOverrides(input: OverrideInput, ctx: Pick<PolicyContext, 'policies' | 'namespaces'>): OverrideVerdict {
  if (ctx.policies.size === 0) return EMPTY_VERDICT;
  const judged = judgeOverrides(input.object, input.namespace, input.unit, ctx);
  if (judged.length === 0) return EMPTY_VERDICT;
  const ratchet = input.operation === 'UPDATE' && isPlainObject(input.oldObject);

  const errors: FieldError[] = [];
  const ratcheted: FieldError[] = [];
  const warnings: string[] = [];
  const decisions = new Map<string, PolicyDecision>();
  // The old object's denials, worked out only when a breach sits in unchanged values.
  let before: Set<string> | undefined;
  for (const j of judged) {
    decisions.set(`${j.ref}\u0000${j.rule}\u0000${j.action}`, { policy: j.ref, rule: j.rule, action: j.action });
    if (j.warning !== undefined) {
      warnings.push(j.warning);
      continue;
    }
    const error = j.error!;
    let keep = ratchet && j.breach.scope.every((p) => unchangedAt(input.object, input.oldObject, p));
    if (keep) {
      // Unchanged only if the same policy denied the same thing before: a changed destination can
      // bring a policy into play, and a changed mode can switch a rule on, with the scope unchanged.
      before ??= new Set(judgeOverrides(input.oldObject, input.namespace, input.unit, ctx).flatMap((o) => (o.error ? [errorKey(o.error)] : [])));
      keep = before.has(errorKey(error));
    }
    if (keep) {
      ratcheted.push(error);
      warnings.push(policyWarning({ policy: j.ref, rule: j.ruleLabel, consequence: 'unchanged, so allowed', field: shortField(j.breach.at), problem: j.breach.problem }));
    } else {
      errors.push(error);
    }
  }
  return { errors: sortFieldErrors(errors), warnings: [...new Set(warnings)], ratcheted: sortFieldErrors(ratcheted), decisions: [...decisions.values()] };
}
