/**
 * docs/rules.md is written from the code: every example message in it must be what the webhook
 * says for a case of the rules table (judged through the server's processors), at the row's field
 * and with the row's verdict; every field and kind of problem the table produces must have a row;
 * the defaulting example must be the patch /mutate answers; every validation flag is documented.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { mutateRequest } from '../../src/admission/handlers.js';
import { decodeReview } from '../../src/admission/review.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { buildProgram } from '../../src/cli/program.js';
import { addValidationFlags } from '../../src/cli/validation-flags.js';
import { EXTENSION_SCHEMAS } from '../backend/cases.js';
import { reviewOf } from '../support/reviews.js';
import { codeSpans, proseLines, tables } from './markdown.js';
import { backendCaseLines, configMapCaseLines, kindCaseLines, type RenderedLine } from './rule-examples.js';

const DOC_PATH = new URL('../../docs/rules.md', import.meta.url);
const DOC = readFileSync(DOC_PATH, 'utf8');
const RULE_HEADER = ['field', 'rule', 'verdict', 'why', 'example'];

interface DocRow {
  readonly number: number;
  /** The `## ` heading it is under: the kind it documents. */
  readonly section: string;
  /** Field patterns; undefined: "any field". */
  readonly fields?: RegExp[];
  readonly fieldText: string;
  readonly verdict: string;
  readonly examples: string[];
}

/** `spec.destination.ports[i].tls` matches any index; `rawConfig/<json-pointer>` any pointer below rawConfig. */
function fieldPattern(text: string): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = escaped.replace(/\\\[[a-z]\\\]/g, '\\[\\d+\\]').replace(/\/<json-pointer>/g, '(?:/[^ ]*)');
  return new RegExp(`^${pattern}$`);
}

/** The `## ` section each kind's rules are documented in. */
const SECTION_OF_KIND: Record<string, string> = {
  Backend: 'Backend and XBackendDestination',
  XBackendDestination: 'Backend and XBackendDestination',
  ConfigMap: 'Extension-schema ConfigMaps',
  XBackend: 'Gateway API XBackend',
  BackendTLSPolicy: 'BackendTLSPolicy',
};

function ruleRows(doc: string): DocRow[] {
  const h2 = proseLines(doc).filter((l) => l.line.startsWith('## ')).map((l) => ({ number: l.number, title: l.line.slice(3).trim() }));
  const sectionAt = (number: number): string => h2.filter((h) => h.number < number).at(-1)?.title ?? '';
  return tables(doc)
    .filter((t) => t.header.join('|') === RULE_HEADER.join('|'))
    .flatMap((t) =>
      t.rows.map(({ cells, number }): DocRow => {
        const [field = '', , verdict = '', , example = ''] = cells;
        const fields = field === 'any field' ? undefined : codeSpans(field).map(fieldPattern);
        return { number, section: sectionAt(number), fields, fieldText: field, verdict, examples: codeSpans(example) };
      }),
    );
}

const ROWS = ruleRows(DOC);
const PRODUCED: RenderedLine[] = [...backendCaseLines(), ...kindCaseLines(), ...configMapCaseLines()];
const BY_LINE = new Map<string, RenderedLine[]>();
for (const l of PRODUCED) BY_LINE.set(l.line, [...(BY_LINE.get(l.line) ?? []), l]);
/** What produced `example` about the kind(s) of `row`'s section. */
const producedFor = (row: DocRow, example: string): RenderedLine[] => (BY_LINE.get(example) ?? []).filter((l) => SECTION_OF_KIND[l.kind] === row.section);

/** Ratchet warnings are one rule for every field; other warnings are each their own. */
const kindOf = (l: RenderedLine): string => (l.line.startsWith('Warning: unchanged, so allowed: ') ? 'Ratcheted' : l.reason);
const fieldMatches = (row: DocRow, field: string): boolean => row.fields === undefined || row.fields.some((p) => p.test(field));

describe('docs/rules.md against the code', () => {
  it('has rule tables, and every row says refused or warned and shows at least one example', () => {
    expect(ROWS.length).toBeGreaterThan(40);
    for (const row of ROWS) {
      expect(['refused', 'warned'], `docs/rules.md:${row.number}: verdict`).toContain(row.verdict);
      expect(row.examples.length, `docs/rules.md:${row.number}: an example`).toBeGreaterThan(0);
      if (row.fields !== undefined) expect(row.fields.length, `docs/rules.md:${row.number}: field in code`).toBeGreaterThan(0);
    }
  });

  it('shows only messages the webhook gives, at the row field and with the row verdict', () => {
    const problems: string[] = [];
    for (const row of ROWS) {
      for (const example of row.examples) {
        const any = BY_LINE.get(example);
        if (!any) {
          problems.push(`docs/rules.md:${row.number}: no case of the rules table produces ${example}`);
          continue;
        }
        const candidates = producedFor(row, example);
        if (candidates.length === 0) {
          problems.push(`docs/rules.md:${row.number}: ${example} is said about ${any[0]!.kind}, the row is under "${row.section}"`);
          continue;
        }
        const produced = candidates.find((l) => l.verdict === row.verdict && fieldMatches(row, l.field)) ?? candidates[0]!;
        if (produced.verdict !== row.verdict) problems.push(`docs/rules.md:${row.number}: ${example} is ${produced.verdict}, the row says ${row.verdict}`);
        if (!fieldMatches(row, produced.field)) problems.push(`docs/rules.md:${row.number}: ${example} is reported at ${produced.field}, not at ${row.fieldText}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents every field and kind of problem the rules table produces', () => {
    const covered = (l: RenderedLine): boolean =>
      ROWS.some((row) => row.section === SECTION_OF_KIND[l.kind] && row.verdict === l.verdict && fieldMatches(row, l.field) && row.examples.some((x) => producedFor(row, x).some((shown) => kindOf(shown) === kindOf(l))));
    const missing = [...new Set(PRODUCED.filter((l) => !covered(l)).map((l) => `${l.kind} ${l.field} ${kindOf(l)} (e.g. ${l.line}, from case "${l.source}")`))];
    expect(missing).toEqual([]);
  });

  it('shows the defaulting patch /mutate answers for each of its examples', () => {
    const markers = [...DOC.matchAll(/<!-- rules-doc: mutate -->/g)].map((m) => m.index);
    expect(markers.length).toBeGreaterThanOrEqual(2);
    for (const at of markers) {
      const blocks = [...DOC.slice(at).matchAll(/```(yaml|json)\n([\s\S]*?)\n```/g)].slice(0, 2);
      expect(blocks.map((b) => b[1])).toEqual(['yaml', 'json']);
      const object = parseYaml(blocks[0]![2]!);
      const { request } = decodeReview(reviewOf(object));
      const verdict = mutateRequest(request, { schemas: EXTENSION_SCHEMAS, options: DEFAULT_VALIDATION_OPTIONS });
      expect(verdict.allowed).toBe(true);
      const patch: unknown = JSON.parse(Buffer.from(verdict.patch ?? '', 'base64').toString('utf8') || '[]');
      expect(patch).toEqual(JSON.parse(blocks[1]![2]!));
    }
  });

  it('documents every flag that changes the rules', () => {
    const section = DOC.slice(DOC.indexOf('## Flags that change the rules'));
    const documented = new Set(tables(section)[0]!.rows.flatMap((r) => codeSpans(r.cells[0] ?? '')));
    const flags = addValidationFlags(new Command()).options.map((o) => o.long ?? '');
    expect(flags.length).toBeGreaterThan(3);
    expect(flags.filter((f) => !documented.has(f))).toEqual([]);
    // And every flag documented there is one that `serve` and `validate` both take.
    const program = buildProgram();
    for (const name of ['serve', 'validate']) {
      const command = program.commands.find((c) => c.name() === name);
      const longs = new Set(command?.options.map((o) => o.long) ?? []);
      expect([...documented].filter((f) => !longs.has(f)), name).toEqual([]);
    }
  });
});
