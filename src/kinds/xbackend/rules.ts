/**
 * XBackend's cross-field rules: every CEL rule of the upstream CRD (apisx/v1alpha1, so the offline
 * CLI answers what the API server would), and what the webhook adds: the hostname is not an IP
 * address in any spelling, not cluster-internal and not a wildcard (the Backend's own hostname
 * checks, called, not copied), a client certificate in another namespace needs a grant, and the
 * spec.port shape of either version. Rules read the object defensively: any value may have any type.
 */
import { forbidden, invalid, notSupported, required } from '../../backend/field-errors.js';
import type { Findings } from '../../backend/issues.js';
import type { ValidationOptions } from '../../backend/options.js';
import { dotted, isPlainObject, type Segments } from '../../backend/paths.js';
import { asString, isSet } from '../../backend/rules/context.js';
import { clusterInternalProblem, destinationHostnameProblemFor, hostnameSyntaxProblem } from '../../backend/rules/hostnames.js';
import { dns1123LabelProblem, MAX_LABEL, MAX_SUBDOMAIN } from '../../backend/rules/names.js';
import { checkCrossNamespaceReference } from '../references.js';
import { EXTERNAL_HOSTNAME, UPSTREAM_CLUSTER_DOMAIN, XBACKEND_GROUP, XBACKEND_KIND, XBACKEND_TLS_MODES } from './types.js';

export interface XBackendRuleContext {
  readonly findings: Findings;
  readonly options: ValidationOptions;
  /** The object's namespace; empty when unknown. */
  readonly namespace: string;
}

const SPEC = ['spec'] as const;
const at = (...rest: Array<string | number>): Segments => [...SPEC, ...rest];

/** Spellings of the Backend's API (and case slips), each with what to write instead. */
const MODE_HINTS: Readonly<Record<string, string>> = {
  Simple: 'that is the Backend\'s name: use "ServerOnly"',
  Mutual: 'that is the Backend\'s name: use "ClientAndServer"',
};

function modeHint(value: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(MODE_HINTS, value)) return MODE_HINTS[value];
  const match = XBACKEND_TLS_MODES.find((m) => m.toLowerCase() === value.toLowerCase());
  return match ? `did you mean ${JSON.stringify(match)}?` : undefined;
}

/** A non-empty string within `max` characters (the schema reports the rest). */
const judgeable = (v: unknown, max: number): v is string => typeof v === 'string' && v !== '' && v.length <= max;

function checkType(ctx: XBackendRuleContext, spec: Record<string, unknown>): void {
  // CEL: self.type == 'ExternalHostname' ? has(self.externalHostname) : !has(self.externalHostname)
  const type = spec['type'];
  if (typeof type !== 'string') return;
  const scope = [at('type'), at('externalHostname')];
  if (type === EXTERNAL_HOSTNAME && !isSet(spec, 'externalHostname')) {
    ctx.findings.report(required(dotted(at('externalHostname')), 'required when type is ExternalHostname'), scope);
  } else if (type !== EXTERNAL_HOSTNAME && isSet(spec, 'externalHostname')) {
    ctx.findings.report(forbidden(dotted(at('externalHostname')), 'must be unset unless type is ExternalHostname'), scope);
  }
}

function checkHostname(ctx: XBackendRuleContext, spec: Record<string, unknown>): void {
  const member = spec['externalHostname'];
  if (!isPlainObject(member)) return;
  const host = member['hostname'];
  if (!judgeable(host, MAX_SUBDOMAIN)) return;
  // The Backend's fqdn.hostname checks: RFC 1123, no wildcard, no IP in any spelling, not internal;
  // and upstream's own `!endsWith('.cluster.local')` whatever the cluster domain is.
  const problem = destinationHostnameProblemFor(host, ctx.options) ?? clusterInternalProblem(host, UPSTREAM_CLUSTER_DOMAIN, ctx.options.internalDomains);
  if (problem) {
    const path = at('externalHostname', 'hostname');
    ctx.findings.report(invalid(dotted(path), host, problem.replace('use type Service', 'route to a Service')), [path]);
  }
}

function checkPort(ctx: XBackendRuleContext, spec: Record<string, unknown>): void {
  const port = spec['port'];
  if (!isPlainObject(port)) return;
  // Released {name?, port}, later {number}: exactly one, reported at the one used.
  const hasPort = isSet(port, 'port');
  const hasNumber = isSet(port, 'number');
  if (!hasPort && !hasNumber) {
    ctx.findings.report(required(dotted(at('port', 'port')), 'the port number (spec.port.number in later versions)'), [at('port')]);
  } else if (hasPort && hasNumber) {
    ctx.findings.report(forbidden(dotted(at('port', 'number')), 'must not be set together with spec.port.port; use one shape'), [at('port', 'port'), at('port', 'number')]);
  }
  // CEL: size(self) == 0 || format.dns1123Label().validate(self) == null
  const name = port['name'];
  if (judgeable(name, MAX_LABEL)) {
    const problem = dns1123LabelProblem(name);
    if (problem) ctx.findings.report(invalid(dotted(at('port', 'name')), name, problem), [at('port', 'name')]);
  }
}

function checkValidation(ctx: XBackendRuleContext, validation: unknown): void {
  if (!isPlainObject(validation)) return;
  const v = (...rest: Array<string | number>): Segments => at('tls', 'validation', ...rest);
  const host = validation['hostname'];
  if (judgeable(host, MAX_SUBDOMAIN)) {
    // The SNI: the hostname syntax (no IP in any spelling), but in-cluster names are not judged here.
    const problem = hostnameSyntaxProblem(host);
    if (problem) ctx.findings.report(invalid(dotted(v('hostname')), host, problem), [v('hostname')]);
  }
  // CEL: CACertificateRefs XOR WellKnownCACertificates.
  const refs = validation['caCertificateRefs'];
  const hasRefs = Array.isArray(refs) && refs.length > 0;
  const wellKnown = validation['wellKnownCACertificates'];
  const hasWellKnown = typeof wellKnown === 'string' ? wellKnown !== '' : isSet(validation, 'wellKnownCACertificates');
  if (hasRefs && hasWellKnown) {
    ctx.findings.report(forbidden(dotted(v('wellKnownCACertificates')), 'must not be set together with caCertificateRefs'), [v('caCertificateRefs'), v('wellKnownCACertificates')]);
  } else if (!hasRefs && !hasWellKnown) {
    ctx.findings.report(required(dotted(v()), 'must specify either caCertificateRefs or wellKnownCACertificates (e.g. System)'), [v('caCertificateRefs'), v('wellKnownCACertificates')]);
  }
  const sans = validation['subjectAltNames'];
  if (!Array.isArray(sans)) return;
  sans.forEach((san: unknown, k) => {
    if (!isPlainObject(san)) return;
    const type = san['type'];
    if (type !== 'Hostname' && type !== 'URI') return; // the schema's enum says so
    // CEL: type Hostname needs hostname and forbids uri; type URI the reverse.
    for (const [key, owner] of [['hostname', 'Hostname'], ['uri', 'URI']] as const) {
      const value = san[key];
      const present = isSet(san, key) && value !== '';
      const path = v('subjectAltNames', k, key);
      if (type === owner && !present) ctx.findings.report(required(dotted(path), `required when type is ${owner}`), [v('subjectAltNames', k)]);
      else if (type !== owner && present) ctx.findings.report(forbidden(dotted(path), `only allowed when type is ${owner}`), [v('subjectAltNames', k)]);
    }
  });
}

function checkTls(ctx: XBackendRuleContext, spec: Record<string, unknown>): void {
  const tls = spec['tls'];
  if (!isPlainObject(tls)) return;
  const mode = tls['mode'];
  if (typeof mode === 'string') {
    if (!(XBACKEND_TLS_MODES as readonly string[]).includes(mode)) {
      ctx.findings.report(notSupported(dotted(at('tls', 'mode')), mode, XBACKEND_TLS_MODES, modeHint(mode)), [at('tls', 'mode')]);
    } else {
      // CEL: self.mode == 'ClientAndServer' ? has(self.clientCertificateRef) : !has(self.clientCertificateRef)
      const path = at('tls', 'clientCertificateRef');
      const scope = [at('tls', 'mode'), path];
      const has = isSet(tls, 'clientCertificateRef');
      if (mode === 'ClientAndServer' && !has) ctx.findings.report(required(dotted(path), 'required when mode is ClientAndServer'), scope);
      else if (mode !== 'ClientAndServer' && has) ctx.findings.report(forbidden(dotted(path), 'only allowed when mode is ClientAndServer'), scope);
      if (mode === 'None' && spec['type'] === EXTERNAL_HOSTNAME) ctx.findings.warn('spec.tls.mode: None sends plaintext to an external hostname');
    }
  }
  const ref = tls['clientCertificateRef'];
  if (isPlainObject(ref)) {
    const ns = asString(ref['namespace']);
    const name = asString(ref['name']);
    if (ns !== undefined && judgeable(ns, MAX_LABEL) && dns1123LabelProblem(ns) === undefined) {
      checkCrossNamespaceReference(
        ctx.findings,
        { group: XBACKEND_GROUP, kind: XBACKEND_KIND, namespace: ctx.namespace },
        { group: asString(ref['group']) ?? '', kind: asString(ref['kind']) ?? 'Secret', name: name ?? '', namespace: ns },
        at('tls', 'clientCertificateRef'),
        ctx.options,
      );
    }
  }
  checkValidation(ctx, tls['validation']);
}

/** Draft rules of later Gateway API versions: said, not enforced, until released. */
function draftWarnings(ctx: XBackendRuleContext, spec: Record<string, unknown>): void {
  const protocol = spec['protocol'];
  const tls = spec['tls'];
  const encrypted = isPlainObject(tls) && tls['mode'] !== 'None';
  if (protocol === 'H2C' && encrypted) ctx.findings.warn('spec.protocol: H2C is cleartext HTTP/2 but spec.tls is set; later XBackend versions refuse this');
  if (protocol === 'HTTP2' && !encrypted) ctx.findings.warn('spec.protocol: HTTP2 without TLS; later XBackend versions refuse this (H2C is cleartext HTTP/2)');
  if (protocol === 'WSS' && !encrypted) ctx.findings.warn('spec.protocol: WSS is WebSocket over TLS but spec.tls is missing or None; later versions refuse this');
}

export function checkXBackend(ctx: XBackendRuleContext, object: Record<string, unknown>): void {
  const spec = object['spec'];
  if (!isPlainObject(spec)) return;
  checkType(ctx, spec);
  checkHostname(ctx, spec);
  checkPort(ctx, spec);
  checkTls(ctx, spec);
  draftWarnings(ctx, spec);
}
