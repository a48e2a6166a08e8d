/**
 * Renders an offline report: human text (one line per problem), one JSON document for machines, or
 * GitHub Actions workflow commands (annotations on the file and line of each problem).
 */
import { STDIN_NAME, type ObjectLocation } from './documents.js';
import type { ObjectRef, ObjectResult, PatchOperation } from './judge.js';
import type { InputProblem } from './problems.js';
import { isIoProblem } from './problems.js';
import type { OfflineReport, OfflineSummary } from './report.js';

export const OUTPUT_FORMATS = ['text', 'json', 'github'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface RenderedOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** `file:LINE`, the line where the object (document, or List item) starts, as editors and CI logs read it. */
export function locationText(l: Pick<ObjectLocation, 'file' | 'line'>): string {
  return `${l.file}:${l.line}`;
}

/** `kind/namespace/name` (namespace left out when the object has none). */
export function refText(r: ObjectRef): string {
  return [r.kind || '<no kind>', ...(r.namespace ? [r.namespace] : []), r.name || '<no name>'].join('/');
}

const patchText = (op: PatchOperation): string =>
  `${op.op} ${op.path}${op.from === undefined ? '' : ` from ${op.from}`}${op.value === undefined ? '' : ` ${JSON.stringify(op.value)}`}`;

const errorText = (field: string, message: string): string => (field ? `${field}: ${message}` : message);

export function summaryText(s: OfflineSummary): string {
  const parts = [`${s.judged} judged`, `${s.valid} valid`, `${s.invalid} invalid`, `${s.warnings} warnings`, `${s.skipped} skipped`];
  if (s.brokenDocuments > 0) parts.push(`${s.brokenDocuments} broken documents`);
  if (s.ioErrors > 0) parts.push(`${s.ioErrors} read errors`);
  return `Summary: ${parts.join(', ')}`;
}

/** `file:LINE:COL` when the position is known (as compilers print it), else the file. */
function problemWhere(p: InputProblem): string {
  if (p.line === undefined) return p.file;
  return `${p.file}:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
}

function problemText(p: InputProblem): string {
  return `${problemWhere(p)}: ${isIoProblem(p) ? 'error: ' : ''}${p.message}`;
}

type Entry = { readonly problem: InputProblem } | { readonly result: ObjectResult };

/** Problems and results in input order: file as read, then document, then List item. */
function inInputOrder(report: OfflineReport): Entry[] {
  const rank = new Map(report.files.map((f, i) => [f, i]));
  const keyed = [
    ...report.problems.map((problem) => ({ entry: { problem } as Entry, file: problem.file, document: problem.document ?? -1, item: problem.item ?? -1 })),
    ...report.results.map((result) => ({ entry: { result } as Entry, file: result.location.file, document: result.location.document, item: result.location.item ?? -1 })),
  ];
  // Array.prototype.sort is stable: equal keys keep problems-then-results order.
  keyed.sort((a, b) => (rank.get(a.file) ?? -1) - (rank.get(b.file) ?? -1) || a.document - b.document || a.item - b.item);
  return keyed.map((k) => k.entry);
}

export function renderText(report: OfflineReport): RenderedOutput {
  const out: string[] = [];
  const err: string[] = [];
  for (const entry of inInputOrder(report)) {
    if ('problem' in entry) {
      (isIoProblem(entry.problem) ? err : out).push(problemText(entry.problem));
      continue;
    }
    const r = entry.result;
    const head = `${locationText(r.location)} ${refText(r.ref)}:`;
    for (const e of r.errors) out.push(`${head} ${errorText(e.field, e.message)}`);
    for (const w of r.warnings) out.push(`${head} warning: ${w.message}`);
    for (const op of r.defaults ?? []) out.push(`${head} default: ${patchText(op)}`);
  }
  out.push(summaryText(report.summary));
  return { stdout: lines(out), stderr: lines(err) };
}

export function renderJson(report: OfflineReport): RenderedOutput {
  const document = {
    summary: report.summary,
    files: report.files,
    results: report.results.map(resultJson),
    problems: report.problems,
  };
  return { stdout: `${JSON.stringify(document, null, 2)}\n`, stderr: '' };
}

function resultJson(r: ObjectResult): Record<string, unknown> {
  const { file, document, item, line } = r.location;
  return {
    file,
    document,
    ...(item === undefined ? {} : { item }),
    line,
    ...r.ref,
    outcome: r.outcome,
    errors: r.errors,
    warnings: r.warnings,
    ...(r.defaults === undefined ? {} : { defaults: r.defaults }),
  };
}

/** Workflow command data: `%`, CR and LF are escaped (actions/toolkit's escapeData). */
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
/** Property values additionally escape `:` and `,` (escapeProperty). */
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function annotation(level: 'error' | 'warning' | 'notice', where: { file: string; line?: number; col?: number }, title: string, message: string): string {
  const props: string[] = [];
  // Standard input has no file to annotate; the title still names the object.
  if (where.file !== STDIN_NAME) {
    props.push(`file=${escapeProperty(where.file)}`);
    if (where.line !== undefined) props.push(`line=${where.line}`);
    if (where.col !== undefined) props.push(`col=${where.col}`);
  }
  props.push(`title=${escapeProperty(title)}`);
  return `::${level} ${props.join(',')}::${escapeData(message)}`;
}

export function renderGithub(report: OfflineReport): RenderedOutput {
  const out: string[] = [];
  for (const entry of inInputOrder(report)) {
    if ('problem' in entry) {
      const p = entry.problem;
      out.push(annotation('error', { file: p.file, line: p.line, col: p.column }, `backend-webhook: ${problemWhere(p)}`, p.message));
      continue;
    }
    const r = entry.result;
    const title = `${refText(r.ref)} (${locationText(r.location)})`;
    for (const e of r.errors) out.push(annotation('error', { file: r.location.file, line: e.line }, title, errorText(e.field, e.message)));
    for (const w of r.warnings) out.push(annotation('warning', { file: r.location.file, line: w.line }, title, w.message));
    for (const op of r.defaults ?? []) out.push(annotation('notice', { file: r.location.file, line: r.location.line }, title, `default: ${patchText(op)}`));
  }
  out.push(summaryText(report.summary));
  return { stdout: lines(out), stderr: '' };
}

export function render(report: OfflineReport, format: OutputFormat): RenderedOutput {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'github':
      return renderGithub(report);
    case 'text':
      return renderText(report);
  }
}

const lines = (items: readonly string[]): string => (items.length ? `${items.join('\n')}\n` : '');
