/** Just enough Markdown (GitHub-flavoured) for the documentation tests: tables, code spans, links, headings. */

/** The lines of `text` outside fenced code blocks (``` or ~~~), with their 1-based line numbers. */
export function proseLines(text: string): Array<{ line: string; number: number }> {
  const out: Array<{ line: string; number: number }> = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, i) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === undefined) fence = m[1]!;
      else if (m[1]!.startsWith(fence[0]!) && m[1]!.length >= fence.length && line.trim() === m[1]) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line, number: i + 1 });
  });
  return out;
}

/** Code spans of one line (CommonMark: a run of N backticks up to the next run of exactly N). */
export function codeSpans(line: string): string[] {
  const spans: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] !== '`') {
      i++;
      continue;
    }
    let n = 0;
    while (line[i + n] === '`') n++;
    const ticks = '`'.repeat(n);
    let j = i + n;
    let end = -1;
    while (j < line.length) {
      const k = line.indexOf(ticks, j);
      if (k < 0) break;
      if (line[k + n] !== '`' && line[k - 1] !== '`') {
        end = k;
        break;
      }
      j = k + 1;
      while (line[j] === '`') j++;
    }
    if (end < 0) {
      i += n;
      continue;
    }
    let content = line.slice(i + n, end);
    if (content.length > 1 && content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '') content = content.slice(1, -1);
    spans.push(content);
    i = end + n;
  }
  return spans;
}

/** `line` with its code spans removed (links inside code are not links). */
export function withoutCode(line: string): string {
  let out = line;
  for (const span of codeSpans(line)) out = out.replace(span, '');
  return out;
}

/** The cells of a table row, split on `|` outside code spans (`\|` is a literal bar). */
export function tableCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let ticks = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '`') {
      let n = 0;
      while (line[i + n] === '`') n++;
      if (ticks === 0) ticks = n;
      else if (ticks === n) ticks = 0;
      cell += '`'.repeat(n);
      i += n - 1;
    } else if (c === '\\' && line[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (c === '|' && ticks === 0) {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  // A row starts and ends with a bar: drop the empty cells outside them.
  return cells.slice(1, -1);
}

export interface Table {
  readonly header: string[];
  readonly rows: Array<{ cells: string[]; number: number }>;
}

/** Every table of `text` (outside code blocks): a header row, a delimiter row, then body rows. */
export function tables(text: string): Table[] {
  const lines = proseLines(text);
  const out: Table[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.line.startsWith('|') || !/^\|( *:?-+:? *\|)+\s*$/.test(lines[i + 1]!.line)) continue;
    const header = tableCells(lines[i]!.line);
    const rows: Table['rows'] = [];
    let j = i + 2;
    while (j < lines.length && lines[j]!.line.startsWith('|') && lines[j]!.number === lines[i]!.number + (j - i)) {
      rows.push({ cells: tableCells(lines[j]!.line), number: lines[j]!.number });
      j++;
    }
    out.push({ header, rows });
    i = j - 1;
  }
  return out;
}

/**
 * GitHub's anchor for a heading (github-slugger): the rendered text in lower case, without
 * punctuation except `-` and `_`, spaces turned into `-`; a repeated slug gets `-1`, `-2`, ...
 */
export function headingSlugs(text: string): Set<string> {
  const slugs = new Set<string>();
  const counts = new Map<string, number>();
  for (const { line } of proseLines(text)) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const rendered = m[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
      .replace(/<[^>]+>/g, '') // inline HTML
      .replace(/[`*_~]/g, (c) => (c === '_' ? '_' : '')); // emphasis and code marks (underscores stay)
    const base = rendered
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const seen = counts.get(base);
    const slug = seen === undefined ? base : `${base}-${seen}`;
    counts.set(base, (seen ?? 0) + 1);
    slugs.add(slug);
  }
  return slugs;
}

/** Every anchor a link into `text` may name: heading slugs and explicit HTML anchors (`<a id="...">`). */
export function anchors(text: string): Set<string> {
  const out = headingSlugs(text);
  for (const { line } of proseLines(text)) for (const m of withoutCode(line).matchAll(/<a\s[^>]*\b(?:id|name)\s*=\s*"([^"]+)"/g)) out.add(m[1]!);
  return out;
}

/** Link targets of a Markdown text (inline links, images, reference definitions, HTML href/src), with line numbers. */
export function linkTargets(text: string): Array<{ target: string; number: number }> {
  const out: Array<{ target: string; number: number }> = [];
  for (const { line, number } of proseLines(text)) {
    const prose = withoutCode(line);
    for (const m of prose.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1]!, number });
    const ref = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(prose);
    if (ref) out.push({ target: ref[1]!, number });
    for (const m of prose.matchAll(/\b(?:href|src)\s*=\s*"([^"]+)"/g)) out.push({ target: m[1]!, number });
  }
  return out;
}
