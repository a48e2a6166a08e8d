/**
 * Splits one input file into Kubernetes objects: multi-document YAML (JSON is YAML too), `List`
 * objects flattened, and for every object the line it starts on. The parsed YAML nodes are kept so
 * a field error can point at the line of the offending value (CI annotations land on that line).
 */
import { CORE_SCHEMA, load as jsYamlLoad } from 'js-yaml';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument, type Node } from 'yaml';
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

export interface ParsedInput {
  documents: InputDocument[];
  problems: InputProblem[];
}

/**
 * Every object in one file. Plain manifests take a fast path (js-yaml, about ten times quicker on
 * thousands of documents); anything unusual, and every document that fails there, goes through the
 * `yaml` package, which is the authority for error messages and line numbers.
 */
export function documentsFromText(file: string, text: string): ParsedInput {
  return (FAST_PATH_ALLOWED(text) ? fastDocuments(file, text) : undefined) ?? yamlDocuments(file, text, 0, 0);
}

/**
 * The fast path splits on document markers, which only works when they are plain `---` lines: no
 * directives, no `...` end markers. Anchors go the slow way too: `yaml` bounds alias expansion.
 */
const FAST_PATH_ALLOWED = (text: string): boolean => !/^%|^\.\.\.(?:\s|$)/m.test(text) && !/(?:^|[\s[{,])&[^\s]/.test(text);

const DOCUMENT_START = /^---(?=\s|$)/;
/** A line that holds no node: blank, or a comment. */
const EMPTY_LINE = /^\s*(?:#[^\n]*)?$/;

interface Chunk {
  /** 0-based line of the chunk's first line in the file. */
  readonly lineBase: number;
  readonly text: string;
  /** 1-based line of the first node (the object's line), if any. */
  readonly contentLine?: number;
}

/** Splits at `---` lines. Text before the first marker is a document only when it holds a node (as in `yaml`). */
function chunksOf(text: string): Chunk[] {
  const lines = text.split('\n');
  const chunks: Chunk[] = [];
  let begin = 0;
  const close = (endExclusive: number, explicit: boolean): void => {
    let contentLine: number | undefined;
    for (let i = begin; i < endExclusive; i++) {
      const line = lines[i]!;
      const body = explicit && i === begin ? line.replace(DOCUMENT_START, '') : line;
      if (!EMPTY_LINE.test(body)) {
        contentLine = i + 1;
        break;
      }
    }
    if (explicit || contentLine !== undefined) {
      chunks.push({ lineBase: begin, text: lines.slice(begin, endExclusive).join('\n'), ...(contentLine === undefined ? {} : { contentLine }) });
    }
  };
  let explicit = false;
  for (let i = 0; i < lines.length; i++) {
    if (i > begin && DOCUMENT_START.test(lines[i]!)) {
      close(i, explicit);
      begin = i;
      explicit = true;
    } else if (i === 0 && DOCUMENT_START.test(lines[0]!)) explicit = true;
  }
  close(lines.length, explicit);
  return chunks;
}

function fastDocuments(file: string, text: string): ParsedInput | undefined {
  const out: ParsedInput = { documents: [], problems: [] };
  chunksOf(text).forEach((chunk, index) => {
    let value: unknown;
    try {
      value = jsYamlLoad(chunk.text, { schema: CORE_SCHEMA });
    } catch {
      value = FAILED;
    }
    // Failures, and Lists (their items need positions), are read by `yaml` instead.
    if (value === FAILED || (isRecord(value) && isListObject(value))) {
      const slow = yamlDocuments(file, chunk.text, chunk.lineBase, index);
      out.documents.push(...slow.documents);
      out.problems.push(...slow.problems);
      return;
    }
    if (value === null || value === undefined) return;
    const line = chunk.contentLine ?? chunk.lineBase + 1;
    if (!isRecord(value)) {
      out.problems.push({ code: 'NotAnObject', file, document: index, line, column: 1, message: NOT_AN_OBJECT });
      return;
    }
    let root: { node: Node; lineCounter: LineCounter } | undefined;
    out.documents.push({
      file,
      document: index,
      line,
      object: value,
      lineOf(field: string): number {
        // Positions are needed for few objects (those with findings): parse those lazily.
        if (!root) {
          const lineCounter = new LineCounter();
          const contents = parseDocument(chunk.text, { lineCounter }).contents as Node | null;
          if (!contents) return line;
          root = { node: contents, lineCounter };
        }
        const offset = nodeAt(root.node, fieldSegments(field)).range?.[0];
        return offset === undefined ? line : root.lineCounter.linePos(offset).line + chunk.lineBase;
      },
    });
  });
  return out;
}

const FAILED = Symbol('failed');
const NOT_AN_OBJECT = 'document is not a Kubernetes object (a mapping with apiVersion and kind)';

/** Every object in one file as the `yaml` package alone reads it (the fast path must agree with this). */
export function documentsFromTextWithYaml(file: string, text: string): ParsedInput {
  return yamlDocuments(file, text, 0, 0);
}

/** The `yaml` package's reading of a text that starts at line `lineBase` (0-based) and at document `firstIndex`. */
function yamlDocuments(file: string, text: string, lineBase: number, firstIndex: number): ParsedInput {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const lineAt = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + lineBase, column: pos.col };
  };
  const documents: InputDocument[] = [];
  const problems: InputProblem[] = [];

  parsed.forEach((doc, i) => {
    const index = firstIndex + i;
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
      problems.push({ code: 'NotAnObject', file, document: index, line: start, column: 1, message: NOT_AN_OBJECT });
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
        documents.push(located({ file, document: index, item: i, line }, item, node, lineAt));
      });
      return;
    }
    documents.push(located({ file, document: index, line: start }, value, root, lineAt));
  });
  return { documents, problems };
}

function located(where: ObjectLocation, object: Record<string, unknown>, node: Node, lineAt: (offset: number) => { line: number }): InputDocument {
  return {
    ...where,
    object,
    lineOf(field: string): number {
      const offset = nodeAt(node, fieldSegments(field)).range?.[0];
      return offset === undefined ? where.line : lineAt(offset).line;
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
