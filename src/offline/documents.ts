/**
 * Splits one input file into Kubernetes objects: multi-document YAML (JSON is YAML too), `List`
 * objects flattened, and for every object the line it starts on. The parsed YAML nodes are kept so
 * a field error can point at the line of the offending value (CI annotations land on that line).
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import type { InputProblem } from './problems.js';

/** Where an object sits in the input: file, 0-based document index (as `yq`'s documentIndex), List item. */
export interface ObjectLocation {
  /** The path as the user gave it (`-` input shows as `<stdin>`), with `/` separators. */
  readonly file: string;
  readonly document: number;
  /** Index in the `items` of a List document; absent for a plain document. */
  readonly item?: number;
  /** 1-based line where the object starts. */
  readonly line: number;
}

export interface InputDocument extends ObjectLocation {
  readonly object: Record<string, unknown>;
  /** 1-based line of the value a field path names, or of its nearest ancestor present in the text. */
  lineOf(field: string): number;
}

export const STDIN_NAME = '<stdin>';

/** Refuses alias bombs (billion laughs) the way kubectl's decoder does: few alias expansions. */
const MAX_ALIAS_COUNT = 100;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `List`, `BackendList`, `ConfigMapList`...: what `kubectl get -o yaml` writes for several objects. */
export const isListObject = (v: Record<string, unknown>): boolean => typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items);

export function documentsFromText(file: string, text: string): { documents: InputDocument[]; problems: InputProblem[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const lineAt = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const documents: InputDocument[] = [];
  const problems: InputProblem[] = [];

  parsed.forEach((doc, index) => {
    const firstError = doc.errors[0];
    if (firstError) {
      problems.push({ code: 'ParseFailed', file, document: index, ...lineAt(firstError.pos[0]), message: `YAML: ${firstError.message}` });
      return;
    }
    const root = doc.contents as Node | null;
    if (root === null) return; // an empty document (a trailing `---`, comments only): nothing to judge
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      problems.push({ code: 'ParseFailed', file, document: index, ...lineAt(root.range?.[0] ?? 0), message: `YAML: ${(err as Error).message}` });
      return;
    }
    if (value === null || value === undefined) return; // `---` followed by nothing
    const start = lineAt(root.range?.[0] ?? 0).line;
    if (!isRecord(value)) {
      problems.push({ code: 'NotAnObject', file, document: index, line: start, column: 1, message: 'document is not a Kubernetes object (a mapping with apiVersion and kind)' });
      return;
    }
    if (isListObject(value) && isMap(root)) {
      const itemsNode = root.get('items', true) as Node | undefined;
      const itemNodes = isSeq(itemsNode) ? (itemsNode.items as Node[]) : [];
      (value.items as unknown[]).forEach((item, i) => {
        const node = itemNodes[i] ?? root;
        const line = lineAt(node.range?.[0] ?? 0).line;
        if (!isRecord(item)) {
          problems.push({ code: 'NotAnObject', file, document: index, item: i, line, column: 1, message: 'List item is not a Kubernetes object (a mapping with apiVersion and kind)' });
          return;
        }
        documents.push(located({ file, document: index, item: i, line }, item, node, lineCounter));
      });
      return;
    }
    documents.push(located({ file, document: index, line: start }, value, root, lineCounter));
  });
  return { documents, problems };
}

function located(where: ObjectLocation, object: Record<string, unknown>, node: Node, lineCounter: LineCounter): InputDocument {
  return {
    ...where,
    object,
    lineOf(field: string): number {
      const target = nodeAt(node, fieldSegments(field));
      const offset = target.range?.[0];
      return offset === undefined ? where.line : lineCounter.linePos(offset).line;
    },
  };
}

/** The deepest node along the path that exists. */
function nodeAt(root: Node, segments: readonly string[]): Node {
  let node = root;
  for (const segment of segments) {
    let next: unknown;
    if (isMap(node)) next = node.get(segment, true);
    else if (isSeq(node) && /^\d+$/.test(segment)) next = node.get(Number(segment), true);
    if (!next || !(isMap(next) || isSeq(next) || isScalar(next))) break;
    node = next as Node;
  }
  return node;
}

/**
 * `spec.destination.ports[1].tls.sni` -> spec, destination, ports, 1, tls, sni;
 * `data[schema.json]` -> data, schema.json; a `/` outside brackets starts a JSON pointer
 * (`spec.extensions[0].rawConfig/categories/1`).
 */
export function fieldSegments(field: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c === '.') {
      if (current) out.push(current);
      current = '';
    } else if (c === '[') {
      if (current) out.push(current);
      current = '';
      const close = field.indexOf(']', i);
      if (close < 0) break;
      out.push(field.slice(i + 1, close));
      i = close;
    } else if (c === '/') {
      if (current) out.push(current);
      const pointer = field.slice(i + 1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
      return [...out, ...pointer];
    } else current += c;
  }
  if (current) out.push(current);
  return out;
}
