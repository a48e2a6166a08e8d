/** spec.destination: the type and its one-of member, hostnames, addresses, services, the port list. */
import { duplicate, forbidden, invalid, notSupported, required } from '../field-errors.js';
import { dotted, isPlainObject, type Segments } from '../paths.js';
import { asString, isSet, type RuleContext } from './context.js';
import { destinationHostnameProblemFor } from './hostnames.js';
import { ipAddressProblem } from './ip.js';
import { dns1035LabelProblem, dns1123LabelProblem, MAX_LABEL, MAX_SUBDOMAIN } from './names.js';
import { checkPort } from './ports.js';
import { MAX_PORTS } from '../limits.js';

export const DESTINATION_TYPES = ['Fqdn', 'Ip', 'Service'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];
/** The earlier draft's name for Service. */
export const LEGACY_SERVICE_TYPE = 'KubernetesService';

const MEMBER_OF: Record<DestinationType, 'fqdn' | 'ip' | 'service'> = { Fqdn: 'fqdn', Ip: 'ip', Service: 'service' };
const MEMBERS = ['fqdn', 'ip', 'service'] as const;
const MAX_IP_TEXT = 45;

/** The destination type the value stands for, KubernetesService read as Service. */
export function destinationTypeOf(value: unknown): DestinationType | undefined {
  if (value === LEGACY_SERVICE_TYPE) return 'Service';
  return (DESTINATION_TYPES as readonly unknown[]).includes(value) ? (value as DestinationType) : undefined;
}

function caseHint(value: string, choices: readonly string[]): string | undefined {
  const match = choices.find((c) => c.toLowerCase() === value.toLowerCase());
  return match ? `did you mean ${JSON.stringify(match)}?` : undefined;
}

// Rules run on every admission: paths are built only when something is reported.

function checkType(ctx: RuleContext, dest: Record<string, unknown>, at: Segments): DestinationType | undefined {
  const value = dest['type'];
  if (typeof value !== 'string') return undefined; // absent or mistyped: the schema says so
  const type = destinationTypeOf(value);
  if (!type) {
    const path = [...at, 'type'];
    const hint = caseHint(value, [...DESTINATION_TYPES, LEGACY_SERVICE_TYPE]);
    ctx.findings.report(notSupported(dotted(path), value, DESTINATION_TYPES, hint), [path]);
  } else if (value === LEGACY_SERVICE_TYPE) {
    ctx.findings.warn(`${dotted([...at, 'type'])}: KubernetesService is an earlier draft's name; use Service`);
  }
  return type;
}

function checkOneOf(ctx: RuleContext, dest: Record<string, unknown>, at: Segments, type: DestinationType): void {
  const wanted = MEMBER_OF[type];
  for (const member of MEMBERS) {
    const set = isSet(dest, member);
    if (member === wanted ? set : !set) continue;
    const path = [...at, member];
    const scope = [[...at, 'type'], path];
    if (member === wanted) ctx.findings.report(required(dotted(path), `required when type is ${type}`), scope);
    else ctx.findings.report(forbidden(dotted(path), `must not be set when type is ${type}`), scope);
  }
}

/** A required string that the rule judges; undefined when absent, mistyped or too long (the schema's part). */
function judgedString(ctx: RuleContext, holder: Record<string, unknown>, key: string, at: Segments, maxLength: number): string | undefined {
  const value = asString(holder[key]);
  if (value === undefined || value.length > maxLength) return undefined;
  if (value === '') {
    ctx.findings.report(required(dotted([...at, key])), [[...at, key]]);
    return undefined;
  }
  return value;
}

function checkMember(ctx: RuleContext, dest: Record<string, unknown>, at: Segments, type: DestinationType): void {
  const member = MEMBER_OF[type];
  const body = dest[member];
  if (!isPlainObject(body)) return;
  const memberAt = [...at, member];
  const report = (key: string, value: string, problem: string | undefined): void => {
    if (problem) ctx.findings.report(invalid(dotted([...memberAt, key]), value, problem), [[...memberAt, key]]);
  };
  if (type === 'Fqdn') {
    const host = judgedString(ctx, body, 'hostname', memberAt, MAX_SUBDOMAIN);
    if (host !== undefined) report('hostname', host, destinationHostnameProblemFor(host, ctx.options));
  } else if (type === 'Ip') {
    const address = judgedString(ctx, body, 'address', memberAt, MAX_IP_TEXT);
    if (address !== undefined) report('address', address, ipAddressProblem(address, ctx.options.extraDeniedCidrs));
  } else {
    const name = judgedString(ctx, body, 'name', memberAt, MAX_LABEL);
    if (name !== undefined) report('name', name, dns1035LabelProblem(name));
    const ns = asString(body['namespace']);
    if (ns === '') report('namespace', ns, "must not be empty; omit it to use the Backend's namespace");
    else if (ns !== undefined && ns.length <= MAX_LABEL) {
      const problem = dns1123LabelProblem(ns);
      report('namespace', ns, problem);
      if (!problem && ctx.namespace !== undefined && ns !== ctx.namespace) {
        ctx.findings.warn(`${dotted([...memberAt, 'namespace'])}: the upstream prototype ignores it and routes to the Backend's namespace, ${ctx.namespace}`);
      }
    }
  }
}

function checkPorts(ctx: RuleContext, dest: Record<string, unknown>, at: Segments, type: DestinationType | undefined): void {
  const ports = dest['ports'];
  if (!Array.isArray(ports)) return;
  const firstByNumber = new Map<number, number>();
  // Past MAX_PORTS the list is refused (TooMany, from the schema): the rest is not judged.
  (ports.length > MAX_PORTS ? ports.slice(0, MAX_PORTS) : ports).forEach((port: unknown, i) => {
    if (!isPlainObject(port)) return;
    const portAt = [...at, 'ports', i];
    checkPort(ctx, port, portAt, type);
    const n = port['number'];
    if (typeof n !== 'number' || !Number.isInteger(n)) return;
    const first = firstByNumber.get(n);
    if (first === undefined) firstByNumber.set(n, i);
    else ctx.findings.report(duplicate(dotted([...portAt, 'number']), n), [[...at, 'ports', first, 'number'], [...portAt, 'number']]);
  });
}

export function checkDestination(ctx: RuleContext, dest: unknown, at: Segments): void {
  if (!isPlainObject(dest)) return;
  const type = checkType(ctx, dest, at);
  if (type) {
    checkOneOf(ctx, dest, at, type);
    checkMember(ctx, dest, at, type);
  }
  checkPorts(ctx, dest, at, type);
}
