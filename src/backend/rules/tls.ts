/** spec.destination.ports[].tls: the mode, and which fields each mode allows or needs. */
import { forbidden, invalid, notSupported, required } from '../field-errors.js';
import { dotted, isPlainObject, type Segments } from '../paths.js';
import { asString, isSet, type RuleContext } from './context.js';
import type { DestinationType } from './destination.js';
import { CA_BUNDLE_KINDS, CLIENT_CERTIFICATE_KINDS, DEFAULT_REFERENCE_KIND, TLS_MODE_HINTS } from './data.js';
import { hostnameSyntaxProblem } from './hostnames.js';
import { dns1123LabelProblem, dns1123SubdomainProblem, MAX_LABEL, MAX_SUBDOMAIN } from './names.js';
import { crossNamespaceRefProblem } from '../../references/grants.js';

export const TLS_MODES = ['Simple', 'Mutual', 'None'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** Spellings pasted from older drafts and neighbouring APIs, each with what to write instead (rule data: data.ts). */
export { TLS_MODE_HINTS };

const FORBIDDEN_WITHOUT_TLS = ['sni', 'caBundleRef', 'clientCertificateRef', 'insecureSkipVerify', 'subjectAltNames'] as const;
const CLUSTER_TRUST_BUNDLE = 'ClusterTrustBundle';
// Namespaced kinds a reference can leave the object's namespace for (the cross-namespace rule).
const CORE_GROUP_KINDS = new Set(['ConfigMap', 'Secret']);
const CERTIFICATES_GROUP = 'certificates.k8s.io';
/** Gateway API's Kind: 1-63 characters (the schema bounds the length). */
const KIND_FORMAT = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
export const MAX_KIND = 63;
/** Beyond this many subjectAltNames the schema refuses the list (TooMany). */
export const MAX_SUBJECT_ALT_NAMES = 16;

function modeHint(value: string): string | undefined {
  const hint = TLS_MODE_HINTS[value];
  if (hint !== undefined && Object.prototype.hasOwnProperty.call(TLS_MODE_HINTS, value)) return hint;
  const match = TLS_MODES.find((m) => m.toLowerCase() === value.toLowerCase());
  return match ? `did you mean ${JSON.stringify(match)}?` : undefined;
}

function checkMode(ctx: RuleContext, tls: Record<string, unknown>, at: Segments): TlsMode | undefined {
  const value = tls['mode'];
  if (typeof value !== 'string') return undefined;
  if ((TLS_MODES as readonly string[]).includes(value)) return value as TlsMode;
  const path = [...at, 'mode'];
  ctx.findings.report(notSupported(dotted(path), value, TLS_MODES, modeHint(value)), [path]);
  return undefined;
}

/** Reference name/namespace syntax shared by caBundleRef[] and clientCertificateRef. */
function checkRefNames(ctx: RuleContext, ref: Record<string, unknown>, at: Segments, checkName: boolean): void {
  const name = asString(ref['name']);
  const namePath = (): Segments => [...at, 'name'];
  if (name === '') ctx.findings.report(required(dotted(namePath())), [namePath()]);
  else if (checkName && name !== undefined && name.length <= MAX_SUBDOMAIN) {
    const problem = dns1123SubdomainProblem(name);
    if (problem) ctx.findings.report(invalid(dotted(namePath()), name, problem), [namePath()]);
  }
  const ns = asString(ref['namespace']);
  if (ns !== undefined && ns.length <= MAX_LABEL) {
    const problem = ns === '' ? 'must not be empty; omit it to use the Backend\'s namespace' : dns1123LabelProblem(ns);
    const nsPath = [...at, 'namespace'];
    if (problem) ctx.findings.report(invalid(dotted(nsPath), ns, problem), [nsPath]);
    else if (name) checkCrossNamespace(ctx, ref, at, name, ns);
  }
}

/**
 * `group` and `kind` of a reference: the formats (Gateway API's Group and Kind), then whether the
 * pair is one we resolve. An absent group means "" and an absent kind means Secret (the CRD's
 * defaults): absence is never reported by these rules. Returns the kind in effect when it is one
 * of `kinds`, else undefined.
 */
function checkRefGroupKind(ctx: RuleContext, ref: Record<string, unknown>, at: Segments, kinds: Readonly<Record<string, string>>): string | undefined {
  // The common case first, with nothing allocated: a kind we resolve (or none) in its own group.
  const kindSet = isSet(ref, 'kind');
  const rawKind = kindSet ? ref['kind'] : DEFAULT_REFERENCE_KIND;
  const groupSet = isSet(ref, 'group');
  const rawGroup = groupSet ? ref['group'] : '';
  if (typeof rawKind === 'string' && Object.prototype.hasOwnProperty.call(kinds, rawKind) && rawGroup === kinds[rawKind]) return rawKind;

  let kind: string | undefined = DEFAULT_REFERENCE_KIND;
  if (kindSet) {
    kind = asString(rawKind);
    if (kind === undefined || kind.length > MAX_KIND) return undefined; // the schema's
    const kindPath = [...at, 'kind'];
    if (kind === '') {
      ctx.findings.report(required(dotted(kindPath), `must not be empty; omit it for ${DEFAULT_REFERENCE_KIND}`), [kindPath]);
      return undefined;
    }
    if (!KIND_FORMAT.test(kind)) {
      ctx.findings.report(invalid(dotted(kindPath), kind, "must be a kind: letters, digits and '-', starting with a letter (e.g. Secret)"), [kindPath]);
      return undefined;
    }
    if (!Object.prototype.hasOwnProperty.call(kinds, kind)) {
      ctx.findings.report(notSupported(dotted(kindPath), kind, Object.keys(kinds)), [kindPath]);
      kind = undefined;
    }
  }
  const group = asString(rawGroup);
  if (group === undefined || group.length > MAX_SUBDOMAIN) return kind; // the schema's
  const groupPath = [...at, 'group'];
  if (group !== '' && dns1123SubdomainProblem(group) !== undefined) {
    ctx.findings.report(invalid(dotted(groupPath), group, 'must be "" (the core group) or a DNS subdomain, e.g. certificates.k8s.io'), [groupPath]);
    return kind;
  }
  if (kind === undefined) return undefined;
  const expected = kinds[kind]!;
  if (group === expected) return kind;
  const where = expected === '' ? 'the core group' : expected;
  const scope = [[...at, 'kind'], groupPath];
  if (!groupSet) ctx.findings.report(required(dotted(groupPath), `must be ${where} for ${kind} (an absent group means "", the core group)`), scope);
  else ctx.findings.report(notSupported(dotted(groupPath), group, [expected], `${kind} is in ${where}`), scope);
  return kind;
}

/**
 * A Secret or ConfigMap in another namespace than the object's: refused unless allowed
 * (--cross-namespace-refs, ReferenceGrants). Absent group and kind mean "" and Secret (the CRD
 * defaults). The verdict depends on the whole reference: that is its ratcheting scope.
 */
function checkCrossNamespace(ctx: RuleContext, ref: Record<string, unknown>, at: Segments, name: string, namespace: string): void {
  if (!ctx.referrer) return;
  const group = isSet(ref, 'group') ? ref['group'] : '';
  const kind = isSet(ref, 'kind') ? ref['kind'] : 'Secret';
  if (group !== '' || typeof kind !== 'string' || !CORE_GROUP_KINDS.has(kind)) return;
  const problem = crossNamespaceRefProblem(ctx.options.crossNamespaceRefs ?? 'reference-grant', ctx.options.referenceGrants, ctx.referrer, { group, kind, name, namespace });
  if (problem) ctx.findings.report(forbidden(dotted([...at, 'namespace']), problem), [at]);
}

function checkCaBundleRef(ctx: RuleContext, ref: unknown, at: Segments): void {
  if (!isPlainObject(ref)) return;
  const kind = checkRefGroupKind(ctx, ref, at, CA_BUNDLE_KINDS);
  if (kind === CLUSTER_TRUST_BUNDLE) {
    if (isSet(ref, 'namespace')) {
      const nsPath = [...at, 'namespace'];
      ctx.findings.report(forbidden(dotted(nsPath), 'ClusterTrustBundle is cluster-scoped'), [[...at, 'kind'], nsPath]);
    }
    // ClusterTrustBundle names may carry the signer name (example.com:signer:bundle): length only.
    checkRefNames(ctx, { name: ref['name'] }, at, false);
    return;
  }
  checkRefNames(ctx, ref, at, true);
}

/** A DNS name (a leading `*.` wildcard allowed, as in certificates) or a URI such as spiffe://... */
export function subjectAltNameProblem(value: string): string | undefined {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) {
    if (/[\s\u0000-\u001f\u007f]/.test(value) || !URL.canParse(value)) return 'must be a DNS name or a valid URI';
    return undefined;
  }
  const name = value.startsWith('*.') ? value.slice(2) : value;
  return name !== '' && dns1123SubdomainProblem(name) === undefined ? undefined : 'must be a DNS name (lower case, RFC 1123) or a URI';
}

function checkSubjectAltNames(ctx: RuleContext, sans: unknown, at: Segments): void {
  if (!Array.isArray(sans)) return;
  sans.forEach((san: unknown, i) => {
    if (typeof san !== 'string' || san.length > 2048) return;
    const problem = subjectAltNameProblem(san);
    if (problem) ctx.findings.report(invalid(dotted([...at, i]), san, problem), [[...at, i]]);
  });
}

function checkSni(ctx: RuleContext, sni: unknown, at: Segments): void {
  if (typeof sni !== 'string' || sni.length > MAX_SUBDOMAIN) return;
  // Same syntax as fqdn.hostname, but in-cluster names are fine: TLS to a Service uses <svc>.<ns>.svc.cluster.local.
  const problem = sni === '' ? 'must not be empty; omit it to send no SNI' : hostnameSyntaxProblem(sni);
  if (problem) ctx.findings.report(invalid(dotted(at), sni, problem), [at]);
}

/** Allowed, but said: a SAN check without a CA (Envoy refuses it), and URI SANs (the prototype matches DNS names only). */
function warnSubjectAltNames(ctx: RuleContext, tls: Record<string, unknown>, sans: readonly unknown[], at: Segments): void {
  if (!isSet(tls, 'caBundleRef')) ctx.findings.warn(`${dotted(at)}: without caBundleRef, Envoy rejects this SAN check and the whole update`);
  for (let i = 0; i < sans.length; i++) {
    const san = sans[i];
    if (typeof san === 'string' && san.includes('://')) ctx.findings.warn(`${dotted([...at, i])}: a URI; the upstream prototype matches DNS SANs only`);
  }
}

export function checkTls(ctx: RuleContext, tls: unknown, at: Segments, destinationType: DestinationType | undefined): void {
  if (!isPlainObject(tls)) return;
  const mode = checkMode(ctx, tls, at);
  const p = (key: string): Segments => [...at, key];
  const forbid = (key: string, detail: string, scope: Segments[]): void => ctx.findings.report(forbidden(dotted(p(key)), detail), scope);
  // Fields already refused for the mode are not judged again (one verdict per field).
  let refused: Set<string> | undefined;
  const refuse = (key: string): void => {
    refused ??= new Set();
    refused.add(key);
  };
  const isRefused = (key: string): boolean => refused?.has(key) === true;

  if (mode === 'None') {
    for (const key of FORBIDDEN_WITHOUT_TLS) {
      if (isSet(tls, key)) {
        forbid(key, 'not allowed when mode is None', [p('mode'), p(key)]);
        refuse(key);
      }
    }
    if (destinationType === 'Fqdn') ctx.findings.warn(`${dotted(p('mode'))}: None sends plaintext to an external (Fqdn) destination`);
  } else if (mode === 'Mutual' && !isSet(tls, 'clientCertificateRef')) {
    ctx.findings.report(required(dotted(p('clientCertificateRef')), 'required when mode is Mutual'), [p('mode'), p('clientCertificateRef')]);
  } else if (mode === 'Simple' && isSet(tls, 'clientCertificateRef')) {
    forbid('clientCertificateRef', 'only allowed when mode is Mutual', [p('mode'), p('clientCertificateRef')]);
    refuse('clientCertificateRef');
  }

  if (tls['insecureSkipVerify'] === true) {
    ctx.findings.warn(`${dotted(p('insecureSkipVerify'))}: true disables verification of the server certificate`);
    const pinned = ['caBundleRef', 'subjectAltNames'].filter((key) => isSet(tls, key));
    if (!isRefused('insecureSkipVerify') && pinned.length > 0) {
      // Pinning trust and skipping verification contradict each other.
      forbid('insecureSkipVerify', `must not be true together with ${pinned.join(' and ')}`, [p('insecureSkipVerify'), ...pinned.map(p)]);
    }
  }

  if (!isRefused('sni') && tls['sni'] !== undefined) checkSni(ctx, tls['sni'], p('sni'));
  const caBundleRef = tls['caBundleRef'];
  if (!isRefused('caBundleRef') && Array.isArray(caBundleRef)) {
    for (let i = 0; i < caBundleRef.length; i++) checkCaBundleRef(ctx, caBundleRef[i], [...at, 'caBundleRef', i]);
  }
  const clientCertificateRef = tls['clientCertificateRef'];
  if (!isRefused('clientCertificateRef') && isPlainObject(clientCertificateRef)) {
    checkRefGroupKind(ctx, clientCertificateRef, p('clientCertificateRef'), CLIENT_CERTIFICATE_KINDS);
    checkRefNames(ctx, clientCertificateRef, p('clientCertificateRef'), true);
  }
  const sans = tls['subjectAltNames'];
  if (!isRefused('subjectAltNames') && Array.isArray(sans)) {
    checkSubjectAltNames(ctx, sans, p('subjectAltNames'));
    // With insecureSkipVerify the pair is refused above; the warnings would only repeat it.
    if (sans.length > 0 && tls['insecureSkipVerify'] !== true) warnSubjectAltNames(ctx, tls, sans, p('subjectAltNames'));
  }
}
