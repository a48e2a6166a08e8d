/**
 * Reading manifests: the fast path (js-yaml on `---`-separated chunks) must find the same objects,
 * document indexes, lines and problems as the `yaml` package reading the whole file.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { documentsFromText, documentsFromTextWithYaml, fieldSegments, type ParsedInput } from '../../src/offline/documents.js';

const BACKEND = `apiVersion: ainetworking.prototype.x-k8s.io/v0alpha0
kind: Backend
metadata:
  name: a
  namespace: team-a
spec:
  destination:
    type: Fqdn
    fqdn: {hostname: api.example.com}
    ports:
      - number: 443
        protocol: HTTP
`;

/** Pieces that stress the splitter: comments, inline content after the marker, Lists, scalars, broken YAML, JSON. */
const PIECES = [
  BACKEND,
  `# a comment before the object\n\n${BACKEND}`,
  '',
  '# only a comment\n',
  'just a scalar\n',
  '- a\n- b\n',
  '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"k": "v"}}\n',
  'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: x}\n  - 3\n',
  'kind: ConfigMap\nmetadata:\n    name: x\n  namespace: y\n',
  'kind: A\nkey: "unterminated\n',
  'kind: A\nname: x\nname: y\n',
  'kind: A\ntext: |\n  line one\n  # not a comment\n',
  'kind: A\nurl: "https://x.example/?a=1&b=2"\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &n anchored\n  namespace: *n\n',
];

const SEPARATORS = ['---\n', '---\n# comment after the marker\n', '--- # inline comment\n', '\n---\n'];

function normalised(parsed: ParsedInput): unknown {
  return {
    documents: parsed.documents.map((d) => ({ document: d.document, item: d.item, line: d.line, object: d.object, metadataLine: d.lineOf('metadata.name') })),
    problems: parsed.problems,
  };
}

const same = (text: string): void => {
  expect(normalised(documentsFromText('f.yaml', text))).toEqual(normalised(documentsFromTextWithYaml('f.yaml', text)));
};

/**
 * Identical when the file is sound. With broken YAML the fast path recovers more: a marker line
 * ends the broken document (YAML forbids `---` inside scalars), where `yaml` may give up on the rest;
 * it still reports a problem and still finds everything `yaml` finds.
 */
const agrees = (text: string): void => {
  const fast = normalised(documentsFromText('f.yaml', text)) as { documents: unknown[]; problems: unknown[] };
  const slow = normalised(documentsFromTextWithYaml('f.yaml', text)) as { documents: unknown[]; problems: unknown[] };
  if (slow.problems.every((p) => (p as { code: string }).code === 'NotAnObject')) {
    expect(fast).toEqual(slow);
    return;
  }
  expect(fast.problems.length).toBeGreaterThan(0);
  for (const d of slow.documents) expect(fast.documents).toContainEqual(d);
};

describe('documentsFromText', () => {
  it('agrees with the yaml package on the pieces joined in any order', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(fc.constantFrom(...PIECES), fc.constantFrom(...SEPARATORS)), { minLength: 1, maxLength: 6 }),
        (leadingMarker, parts) => {
          const text = (leadingMarker ? '---\n' : '') + parts.map(([piece, sep], i) => (i === 0 ? piece : sep + piece)).join('');
          agrees(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees on edge cases: inline content after the marker, trailing marker, CRLF, no final newline', () => {
    for (const text of [
      '--- {apiVersion: v1, kind: ConfigMap, metadata: {name: inline}}\n',
      `${BACKEND}---\n`,
      `${BACKEND}---\n---\n${BACKEND}`,
      BACKEND.replace(/\n/g, '\r\n') + '---\r\n# c\r\n' + BACKEND.replace(/\n/g, '\r\n'),
      BACKEND.trimEnd(),
      '%YAML 1.2\n---\nkind: A\n',
      'kind: A\n...\n---\nkind: B\n',
    ]) {
      same(text);
    }
  });

  it('points a field at its own line, falling back to the nearest ancestor', () => {
    const text = `kind: X\n---\n${BACKEND}`;
    const [doc] = documentsFromText('f.yaml', text).documents.filter((d) => d.object.kind === 'Backend');
    expect(doc!.line).toBe(3);
    expect(doc!.lineOf('spec.destination.ports[0].protocol')).toBe(14);
    expect(doc!.lineOf('spec.destination.ports[0].tls.sni')).toBe(13); // absent: the port's line
    expect(doc!.lineOf('spec.destination.fqdn.hostname')).toBe(11);
  });

  it('splits field paths with indexes, bracketed keys and JSON pointers', () => {
    expect(fieldSegments('spec.destination.ports[1].tls.sni')).toEqual(['spec', 'destination', 'ports', '1', 'tls', 'sni']);
    expect(fieldSegments('data[schema.json]')).toEqual(['data', 'schema.json']);
    expect(fieldSegments('spec.extensions[0].rawConfig/a~1b/1')).toEqual(['spec', 'extensions', '0', 'rawConfig', 'a/b', '1']);
  });
});
