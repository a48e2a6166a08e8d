/** spec.destination.ports[]: protocol and protocolOptions (MCP); TLS is in tls.ts. */
import { forbidden, invalid, notSupported, required } from '../field-errors.js';
import { dotted, isPlainObject, type Segments } from '../paths.js';
import { asString, isSet, type RuleContext } from './context.js';
import type { DestinationType } from './destination.js';
import { PROTOCOL_HINTS } from './data.js';
import { dns1123SubdomainProblem } from './names.js';
import { checkTls } from './tls.js';

export const CORE_PROTOCOLS = ['HTTP', 'HTTP2', 'TCP', 'MCP'] as const;
export const MAX_PROTOCOL_LENGTH = 256;
export const MAX_MCP_PATH_LENGTH = 1024;
export const DEFAULT_MCP_PATH = '/mcp';

/** The name part of a vendor protocol, like a qualified name's (istio.io/a2a). */
const VENDOR_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VENDOR_HINT = 'a vendor protocol must be <dns-subdomain>/<name>, e.g. istio.io/a2a';

type ProtocolVerdict = { ok: true } | { ok: false; unsupported: boolean; detail?: string };

export function judgeProtocol(value: string): ProtocolVerdict {
  if ((CORE_PROTOCOLS as readonly string[]).includes(value)) return { ok: true };
  const slash = value.indexOf('/');
  if (slash < 0) {
    if (Object.prototype.hasOwnProperty.call(PROTOCOL_HINTS, value)) return { ok: false, unsupported: true, detail: PROTOCOL_HINTS[value] };
    const match = CORE_PROTOCOLS.find((c) => c.toLowerCase() === value.toLowerCase());
    return { ok: false, unsupported: true, detail: match ? `did you mean ${JSON.stringify(match)}?` : 'or a vendor protocol <dns-subdomain>/<name>, e.g. istio.io/a2a' };
  }
  const prefix = value.slice(0, slash);
  const name = value.slice(slash + 1);
  const prefixProblem = prefix === '' ? 'is empty' : dns1123SubdomainProblem(prefix);
  if (prefixProblem) return { ok: false, unsupported: false, detail: `${VENDOR_HINT}; the prefix before / ${prefixProblem}` };
  if (name.length === 0 || name.length > 63 || !VENDOR_NAME.test(name)) {
    return { ok: false, unsupported: false, detail: `${VENDOR_HINT}; the name must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit` };
  }
  return { ok: true };
}

/** Whether `YYYY-MM-DD` names a real calendar day. */
export function isCalendarDate(value: string): boolean {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const PCHAR = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})";
/** RFC 3986 path-absolute: `/` alone or `/segment-nz(/segment)*`. */
const PATH_ABSOLUTE = new RegExp(`^/(?:${PCHAR}+(?:/${PCHAR}*)*)?$`);

export function mcpPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path starting with /';
  if (path.includes('?')) return 'must not contain a query (?)';
  if (path.includes('#')) return 'must not contain a fragment (#)';
  if (!PATH_ABSOLUTE.test(path)) return 'must be an absolute URL path: no // at the start, spaces or characters outside RFC 3986 (percent-encode them)';
  return undefined;
}

function checkProtocol(ctx: RuleContext, port: Record<string, unknown>, at: Segments): boolean {
  const value = asString(port['protocol']);
  if (value === undefined || value.length > MAX_PROTOCOL_LENGTH) return false;
  const path = (): Segments => [...at, 'protocol'];
  if (value === '') {
    ctx.findings.report(required(dotted(path())), [path()]);
    return false;
  }
  const verdict = judgeProtocol(value);
  if (verdict.ok) return true;
  const error = verdict.unsupported ? notSupported(dotted(path()), value, CORE_PROTOCOLS, verdict.detail) : invalid(dotted(path()), value, verdict.detail);
  ctx.findings.report(error, [path()]);
  return false;
}

function checkMcp(ctx: RuleContext, mcp: unknown, at: Segments): void {
  if (!isPlainObject(mcp)) return;
  const version = asString(mcp['version']);
  // A malformed date is the schema's (format: date); here only the list of published revisions.
  if (version !== undefined && isCalendarDate(version) && !ctx.options.mcpVersions.includes(version)) {
    const versionPath = [...at, 'version'];
    ctx.findings.report(notSupported(dotted(versionPath), version, ctx.options.mcpVersions), [versionPath]);
  }
  const path = asString(mcp['path']);
  if (path !== undefined && path.length <= MAX_MCP_PATH_LENGTH) {
    const problem = mcpPathProblem(path);
    const pathPath = [...at, 'path'];
    if (problem) ctx.findings.report(invalid(dotted(pathPath), path, problem), [pathPath]);
  }
}

export function checkPort(ctx: RuleContext, port: Record<string, unknown>, at: Segments, destinationType: DestinationType | undefined): void {
  const protocolOk = checkProtocol(ctx, port, at);
  const options = port['protocolOptions'];
  if (isPlainObject(options) && isSet(options, 'mcp')) {
    const mcpAt = [...at, 'protocolOptions', 'mcp'];
    // Judged only against a valid protocol: a misspelt one is already reported at protocol.
    if (protocolOk && port['protocol'] !== 'MCP') {
      ctx.findings.report(forbidden(dotted(mcpAt), 'only allowed when protocol is MCP'), [[...at, 'protocol'], mcpAt]);
    } else {
      checkMcp(ctx, options['mcp'], mcpAt);
    }
  }
  checkTls(ctx, port['tls'], [...at, 'tls'], destinationType);
}
