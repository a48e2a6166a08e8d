/** How platform policies see a Backend / XBackendDestination: spec.destination and its ports, spec.extensions. */
import { MAX_EXTENSIONS, MAX_PORTS } from '../../backend/limits.js';
import { isPlainObject, type Segments } from '../../backend/paths.js';
import { destinationFacts, type DestinationFacts } from '../../policies/match.js';
import type { PolicyView, PortView } from '../unit.js';

function destinationPath(dest: DestinationFacts): Segments {
  if (dest.type === 'Fqdn') return ['spec', 'destination', 'fqdn', 'hostname'];
  if (dest.type === 'Ip') return ['spec', 'destination', 'ip', 'address'];
  return ['spec', 'destination', 'service'];
}

function portView(port: Record<string, unknown>, at: Segments): PortView {
  const tlsAt = [...at, 'tls'];
  const tls = port['tls'];
  return {
    at,
    number: { at: [...at, 'number'], value: port['number'] },
    protocol: { at: [...at, 'protocol'], value: port['protocol'] },
    tlsAt,
    ...(isPlainObject(tls)
      ? {
          tls: {
            at: tlsAt,
            mode: { at: [...tlsAt, 'mode'], value: typeof tls['mode'] === 'string' ? tls['mode'] : undefined },
            written: tls['mode'],
            insecureSkipVerify: { at: [...tlsAt, 'insecureSkipVerify'], value: tls['insecureSkipVerify'] },
            sni: { at: [...tlsAt, 'sni'], value: tls['sni'] },
          },
        }
      : {}),
  };
}

export function backendView(object: unknown, namespace: string | undefined): PolicyView {
  const spec = isPlainObject(object) ? object['spec'] : undefined;
  const dest = isPlainObject(spec) ? spec['destination'] : undefined;
  const ports = isPlainObject(dest) ? dest['ports'] : undefined;
  const exts = isPlainObject(spec) ? spec['extensions'] : undefined;
  const facts = destinationFacts(object, namespace);
  return {
    ...(facts ? { destination: { facts, at: destinationPath(facts), scope: [['spec', 'destination']] } } : {}),
    // Past the limits the object is refused (TooMany) whatever policies say: judge no more than that.
    ports: Array.isArray(ports) ? capped(ports, MAX_PORTS).flatMap((port: unknown, i) => (isPlainObject(port) ? [portView(port, ['spec', 'destination', 'ports', i])] : [])) : [],
    extensions: Array.isArray(exts)
      ? capped(exts, MAX_EXTENSIONS).flatMap((e: unknown, i) => (isPlainObject(e) && typeof e['type'] === 'string' ? [{ at: ['spec', 'extensions', i] as Segments, type: e['type'] }] : []))
      : [],
  };
}

const capped = (items: unknown[], max: number): unknown[] => (items.length > max ? items.slice(0, max) : items);
