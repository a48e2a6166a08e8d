/**
 * AdmissionReview bodies built to make the webhook produce as many field errors per byte as it can
 * (issue 12.2): each fills `bytes` (just under the body limit) with the cheapest problem of its kind.
 * The uid comes first in `request`, as the API server writes it.
 */
import { GROUP, VERSION } from './reviews.js';

export type HostileVariant =
  /** spec.extensions: [1,1,1,...]: one type error per two bytes. */
  | 'extension-scalars'
  /** Extensions with a bad name and an unregistered type: several causes each. */
  | 'bad-extensions'
  /** 64 extensions of a registered type whose rawConfig array items all fail an enum. */
  | 'rawconfig-items'
  /** spec.destination.ports: [{}, {}, ...] with protocols and TLS modes that are all wrong. */
  | 'bad-ports';

/**
 * Not here: hundreds of thousands of distinct keys in one object. V8's JSON.parse alone takes
 * seconds on those (interning every key), before any code of ours runs; the body limit bounds it.
 */
export const HOSTILE_VARIANTS: readonly HostileVariant[] = ['extension-scalars', 'bad-extensions', 'rawconfig-items', 'bad-ports'];

/** The extension type whose schema `rawconfig-items` needs (schemas/extensions/tool-filter.yaml). */
export const TOOL_FILTER_TYPE = 'example.com/ToolFilter';

function envelope(uid: string, spec: string): string {
  const object = `{"apiVersion":"${GROUP}/${VERSION}","kind":"Backend","metadata":{"name":"hostile","namespace":"team-a"},"spec":${spec}}`;
  return (
    `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${uid}",` +
    `"kind":{"group":"${GROUP}","version":"${VERSION}","kind":"Backend"},` +
    `"resource":{"group":"${GROUP}","version":"${VERSION}","resource":"backends"},` +
    `"name":"hostile","namespace":"team-a","operation":"CREATE","userInfo":{"username":"attacker"},` +
    `"object":${object},"oldObject":null,"dryRun":false}}`
  );
}

const DESTINATION = '{"type":"Fqdn","fqdn":{"hostname":"api.example.com"},"ports":[{"number":443}]}';

/** Repeats `item` (joined by commas) as often as fits in `room` characters. */
function fill(room: number, item: (i: number) => string): string {
  const parts: string[] = [];
  let used = 0;
  for (let i = 0; ; i++) {
    const next = item(i);
    if (used + next.length + 1 > room) break;
    parts.push(next);
    used += next.length + 1;
  }
  return parts.join(',');
}

/** A body of at most `bytes` bytes (ASCII) of the given variant. */
export function hostileBody(variant: HostileVariant, uid: string, bytes: number): string {
  const room = bytes - envelope(uid, '').length - 256;
  switch (variant) {
    case 'extension-scalars':
      return envelope(uid, `{"destination":${DESTINATION},"extensions":[${fill(room - DESTINATION.length, () => '1')}]}`);
    case 'bad-extensions':
      return envelope(uid, `{"destination":${DESTINATION},"extensions":[${fill(room - DESTINATION.length, (i) => `{"name":"X${i}","type":"bad type","rawConfig":1}`)}]}`);
    case 'rawconfig-items': {
      const perExtension = Math.floor((room - DESTINATION.length) / 64) - 100;
      const items = fill(perExtension, () => '0');
      const extensions = Array.from({ length: 64 }, (_, i) => `{"name":"e${i}","type":"${TOOL_FILTER_TYPE}","rawConfig":{"categories":[${items}]}}`);
      return envelope(uid, `{"destination":${DESTINATION},"extensions":[${extensions.join(',')}]}`);
    }
    case 'bad-ports':
      return envelope(uid, `{"destination":{"type":"Fqdn","fqdn":{"hostname":"api.example.com"},"ports":[${fill(room, () => '{"protocol":"x","tls":{"mode":"y"}}')}]}}`);
  }
}
