/**
 * How platform policies see an XBackend: an Fqdn destination (the external hostname), one port
 * (spec.port.port or spec.port.number, spec.protocol), its TLS in the Backend's words (ServerOnly
 * is Simple, ClientAndServer is Mutual; the SNI is tls.validation.hostname). No extensions, and no
 * insecureSkipVerify field: those rules do not apply.
 */
import { isPlainObject, type Segments } from '../../backend/paths.js';
import type { PolicyView, PortView, TlsView } from '../unit.js';
import { TLS_MODE_AS_BACKEND } from './types.js';

const member = (o: Record<string, unknown>, k: string): Record<string, unknown> | undefined => (isPlainObject(o[k]) ? (o[k] as Record<string, unknown>) : undefined);

function tlsView(tls: Record<string, unknown>, tlsAt: Segments): TlsView {
  const written = tls['mode'];
  const mode = typeof written === 'string' && Object.prototype.hasOwnProperty.call(TLS_MODE_AS_BACKEND, written) ? TLS_MODE_AS_BACKEND[written] : undefined;
  const validation = member(tls, 'validation');
  return {
    at: tlsAt,
    mode: { at: [...tlsAt, 'mode'], value: mode },
    written,
    sni: { at: [...tlsAt, 'validation', 'hostname'], value: validation?.['hostname'] },
  };
}

export function xbackendView(object: unknown): PolicyView {
  const spec = isPlainObject(object) ? member(object, 'spec') : undefined;
  if (!spec) return { ports: [] };
  const host = member(spec, 'externalHostname')?.['hostname'];
  const destination =
    spec['type'] === 'ExternalHostname' && typeof host === 'string' && host !== ''
      ? { facts: { type: 'Fqdn' as const, host: host.toLowerCase() }, at: ['spec', 'externalHostname', 'hostname'], scope: [['spec', 'type'], ['spec', 'externalHostname']] }
      : undefined;
  const ports: PortView[] = [];
  const port = member(spec, 'port');
  if (port) {
    const key = Object.prototype.hasOwnProperty.call(port, 'number') && !Object.prototype.hasOwnProperty.call(port, 'port') ? 'number' : 'port';
    const tlsAt = ['spec', 'tls'];
    const tls = member(spec, 'tls');
    ports.push({
      at: ['spec', 'port'],
      number: { at: ['spec', 'port', key], value: port[key] },
      protocol: { at: ['spec', 'protocol'], value: spec['protocol'] },
      tlsAt,
      ...(tls ? { tls: tlsView(tls, tlsAt) } : {}),
    });
  }
  return { ...(destination ? { destination } : {}), ports };
}
