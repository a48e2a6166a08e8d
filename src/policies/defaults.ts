/**
 * Platform-policy defaults, as in-place steps around the built-in ones: the policy's TLS mode fills
 * ports without TLS first (so it beats the built-in `Simple`), then the built-in defaults run, then
 * CA bundle, subject alt names, client certificate and extensions fill what is still unset (also in
 * tls blocks the built-in step just made). Fields the user set are never touched; a second pass
 * changes nothing.
 */
import { applyBuiltInDefaults } from '../backend/defaults.js';
import { dotted, isPlainObject, type Segments } from '../backend/paths.js';
import { hostnameSyntaxProblem } from '../backend/rules/hostnames.js';
import { extensionKind, type DefaultExtension, type PolicyDocument } from './format.js';
import type { ApplicablePolicy, PolicyDecision, Winner } from './evaluate.js';
import { winners } from './evaluate.js';

type Defaults = NonNullable<PolicyDocument['defaults']>;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function sniFor(destination: Record<string, unknown>): string | undefined {
  if (destination['type'] !== 'Fqdn' || !isPlainObject(destination['fqdn'])) return undefined;
  const host = destination['fqdn']['hostname'];
  return typeof host === 'string' && hostnameSyntaxProblem(host) === undefined ? host : undefined;
}

export interface PolicyDefaulting {
  /** The composed in-place steps, for defaultBackendWith. */
  apply(object: unknown): string[];
  /** Decisions of the last apply(): one per (policy, default) that set something. */
  readonly decisions: PolicyDecision[];
}

/** The defaulting steps for a Backend that these (determined) policies apply to. */
export function policyDefaulting(applicable: readonly ApplicablePolicy[]): PolicyDefaulting {
  // Defaults never come from a policy whose namespace selector could not be evaluated: no guessing writes.
  const won = winners(
    applicable.filter((a) => !a.undetermined),
    (k) => k.startsWith('defaults.'),
  );
  const decisions = new Map<string, PolicyDecision>();
  const used = (w: Winner): void => {
    const rule = w.setting.rule;
    decisions.set(`${w.applicable.policy.ref}\u0000${rule}`, { policy: w.applicable.policy.ref, rule, action: 'default' });
  };
  const value = <K extends keyof Defaults>(key: K): { value: NonNullable<Defaults[K]>; winner: Winner } | undefined => {
    const w = won.get(`defaults.${key}`);
    return w ? { value: w.setting.value as NonNullable<Defaults[K]>, winner: w } : undefined;
  };

  const ports = (object: unknown): Array<{ at: Segments; port: Record<string, unknown>; destination: Record<string, unknown> }> => {
    if (!isPlainObject(object) || !isPlainObject(object['spec'])) return [];
    const destination = object['spec']['destination'];
    if (!isPlainObject(destination) || !Array.isArray(destination['ports'])) return [];
    return destination['ports'].flatMap((port: unknown, i) => (isPlainObject(port) ? [{ at: ['spec', 'destination', 'ports', i] as Segments, port, destination }] : []));
  };

  const tlsMode = (object: unknown): string[] => {
    const mode = value('tlsMode');
    if (!mode) return [];
    const set: string[] = [];
    for (const { at, port, destination } of ports(object)) {
      if (hasOwn(port, 'tls')) continue;
      const tls: Record<string, unknown> = { mode: mode.value };
      const sni = mode.value === 'None' ? undefined : sniFor(destination);
      if (sni !== undefined) tls['sni'] = sni;
      port['tls'] = tls;
      set.push(dotted([...at, 'tls']));
      used(mode.winner);
    }
    return set;
  };

  const tlsFields = (object: unknown): string[] => {
    const set: string[] = [];
    const fill = (tls: Record<string, unknown>, at: Segments, key: 'caBundleRef' | 'subjectAltNames' | 'clientCertificateRef'): void => {
      const d = value(key);
      if (!d || hasOwn(tls, key)) return;
      tls[key] = copy(d.value);
      set.push(dotted([...at, 'tls', key]));
      used(d.winner);
    };
    for (const { at, port } of ports(object)) {
      const tls = port['tls'];
      if (!isPlainObject(tls) || (tls['mode'] !== 'Simple' && tls['mode'] !== 'Mutual')) continue;
      // Pinning trust next to insecureSkipVerify is refused by validation: leave such ports alone.
      if (tls['insecureSkipVerify'] !== true) {
        fill(tls, at, 'caBundleRef');
        fill(tls, at, 'subjectAltNames');
      }
      if (tls['mode'] === 'Mutual') fill(tls, at, 'clientCertificateRef');
    }
    return set;
  };

  const extensions = (object: unknown): string[] => {
    const defaults = [...won.entries()].filter(([k]) => k.startsWith('defaults.extensions['));
    if (defaults.length === 0 || !isPlainObject(object) || !isPlainObject(object['spec'])) return [];
    const spec = object['spec'];
    if (hasOwn(spec, 'extensions') && !Array.isArray(spec['extensions'])) return [];
    const list: unknown[] = Array.isArray(spec['extensions']) ? spec['extensions'] : [];
    const set: string[] = [];
    for (const [, w] of defaults) {
      const ext = w.setting.value as DefaultExtension;
      const present = list.some((e) => isPlainObject(e) && ((typeof e['type'] === 'string' && extensionKind(e['type']) === extensionKind(ext.type)) || e['name'] === ext.name));
      if (present) continue;
      list.push(copy(ext));
      set.push(dotted(['spec', 'extensions', list.length - 1]));
      used(w);
    }
    if (set.length > 0 && !hasOwn(spec, 'extensions')) spec['extensions'] = list;
    return set;
  };

  return {
    apply(object: unknown): string[] {
      decisions.clear();
      return [...tlsMode(object), ...applyBuiltInDefaults(object), ...tlsFields(object), ...extensions(object)];
    },
    get decisions(): PolicyDecision[] {
      return [...decisions.values()];
    },
  };
}
