/**
 * Finds JSON Schema `pattern`s that V8's native (backtracking) RegExp can run both safely and with
 * exactly RE2's meaning, so the common, simple patterns skip the slower linear-time engine.
 *
 * Only a deliberately small subset of RE2 syntax is recognised; anything else returns undefined
 * and stays on RE2. The pattern is parsed into a tree and re-emitted as ECMAScript source for the
 * `u` flag (every non-alphanumeric literal becomes `\u{…}`, `.` becomes `[^\n]`), so escape
 * differences between the two dialects (`\-`, `\_`, `[]a]`, `a{,3}`, `{01}`, …) cannot leak through.
 *
 * Why the accepted patterns run in linear time on a backtracking engine: one match attempt at one
 * start position explores a tree of choices (which alternative; one more repetition or stop). With
 * only bounded quantifiers that tree is finite and independent of the input; `cost` computes an
 * upper bound on its size (a sequence X·Y costs steps(X) + ways(X) × steps(Y), an alternation the
 * sum of its branches, x{m,n} is unrolled), and the pattern is accepted only if it is at most
 * MAX_STEPS. Trying every start position then costs O(n × MAX_STEPS).
 * One unbounded quantifier is allowed if it applies to a single-character atom and no repeat
 * encloses it: each way through the rest of the pattern then meets it at most once; it scans at most
 * n characters and gives them back one at a time, exploring the (bounded) remainder at each of the
 * n + 1 counts, so one attempt costs O(n × MAX_STEPS). A leading top-level `^` makes every other
 * start position fail at its first step, so the whole match stays O(n × MAX_STEPS). Two unbounded
 * quantifiers, one on a group, or one that a repeat re-enters are exactly the shapes that go
 * polynomial or exponential (`\d+\d+$`, `(a+)+$`, `(a|a)*$`), so those stay on RE2.
 */

/** Longest pattern considered at all. */
const MAX_PATTERN_LENGTH = 1_000;
/**
 * Most backtracking steps one match attempt may take (per input character for the pattern with an
 * unbounded quantifier): the same order as RE2's own per-character work, which grows with the size
 * of the compiled pattern.
 */
const MAX_STEPS = 10_000;
/** RE2's own repeat limit; larger counts are refused by RE2 anyway. */
const MAX_REPEAT_COUNT = 1_000;

type Node =
  /** One character from a set: a literal, `.`, `\d`, or a bracket class; `source` is ECMAScript. */
  | { readonly kind: 'char'; readonly source: string }
  | { readonly kind: 'anchor'; readonly source: '^' | '$' }
  | { readonly kind: 'group'; readonly body: Node }
  | { readonly kind: 'alternation'; readonly branches: readonly Node[] }
  | { readonly kind: 'sequence'; readonly items: readonly Node[] }
  | { readonly kind: 'repeat'; readonly body: Node; readonly min: number; readonly max: number; readonly lazy: boolean };

/** Thrown inside the parser only: the pattern is outside the subset. Never escapes this module. */
class OutsideSubset extends Error {}

const isDigit = (c: string | undefined): c is string => c !== undefined && c >= '0' && c <= '9';
const isAlphanumeric = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);
/** Characters that are syntax outside a class in RE2 or in ECMAScript `u` mode (unescaped). */
const SYNTAX_OUTSIDE_CLASS = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);
/** Control-character escapes with the same meaning in both dialects. */
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b };
/** `\d \D \w \W`: ASCII-only in RE2 and in ECMAScript without the `i` flag. */
const PERL_CLASSES = new Set(['d', 'D', 'w', 'W']);

/** ECMAScript source for one code point, valid inside and outside a class under the `u` flag. */
function literalSource(codePoint: number): string {
  const c = String.fromCodePoint(codePoint);
  return isAlphanumeric(c) ? c : `\\u{${codePoint.toString(16)}}`;
}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.pos !== this.text.length) throw new OutsideSubset(); // a stray `)`
    return node;
  }

  private peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }

  /** The next whole code point (a well-formed surrogate pair counts as one; a lone one is refused). */
  private codePoint(): number {
    const cp = this.text.codePointAt(this.pos);
    if (cp === undefined || (cp >= 0xd800 && cp <= 0xdfff)) throw new OutsideSubset();
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private alternation(): Node {
    const branches = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? branches[0]! : { kind: 'alternation', branches };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      items.push(this.quantified(this.atom()));
    }
    return items.length === 1 ? items[0]! : { kind: 'sequence', items };
  }

  private quantified(atom: Node): Node {
    const bounds = this.quantifier();
    if (bounds === undefined) return atom;
    if (atom.kind === 'anchor') throw new OutsideSubset();
    let lazy = false;
    if (this.peek() === '?') {
      this.pos++;
      lazy = true;
    }
    // `a**`, `a{2}{3}`: RE2 refuses them, ECMAScript reads them differently or refuses too.
    if (this.quantifierAhead()) throw new OutsideSubset();
    return { kind: 'repeat', body: atom, min: bounds.min, max: bounds.max, lazy };
  }

  private quantifierAhead(): boolean {
    const c = this.peek();
    return c === '*' || c === '+' || c === '?' || c === '{';
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.peek();
    if (c === '*') return this.advance(1, { min: 0, max: Infinity });
    if (c === '+') return this.advance(1, { min: 1, max: Infinity });
    if (c === '?') return this.advance(1, { min: 0, max: 1 });
    if (c !== '{') return undefined;
    // RE2 reads a `{` that is not a well-formed repeat as a literal; ECMAScript `u` mode refuses it.
    const match = /^\{(\d{1,4})(,(\d{1,4})?)?\}/.exec(this.text.slice(this.pos, this.pos + 12));
    if (!match) throw new OutsideSubset();
    const [whole, minText, comma, maxText] = match;
    // RE2 does not read leading zeros as a count (`{01}` is literal text there).
    if (hasLeadingZero(minText!) || (maxText !== undefined && hasLeadingZero(maxText))) throw new OutsideSubset();
    const min = Number(minText);
    const max = comma === undefined ? min : maxText === undefined ? Infinity : Number(maxText);
    if (min > max || min > MAX_REPEAT_COUNT || (max !== Infinity && max > MAX_REPEAT_COUNT)) throw new OutsideSubset();
    return this.advance(whole.length, { min, max });
  }

  private advance<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private atom(): Node {
    const c = this.peek()!;
    switch (c) {
      case '^':
      case '$':
        this.pos++;
        return { kind: 'anchor', source: c };
      case '.':
        this.pos++;
        // RE2's `.` (without the s flag) is any character but \n; ECMAScript's also skips \r, \u2028, \u2029.
        return { kind: 'char', source: '[^\\n]' };
      case '(':
        return this.group();
      case '[':
        return this.bracketClass();
      case '\\':
        return this.escapeOutsideClass();
      default:
        if (SYNTAX_OUTSIDE_CLASS.has(c)) throw new OutsideSubset();
        return { kind: 'char', source: literalSource(this.codePoint()) };
    }
  }

  private group(): Node {
    this.pos++; // (
    if (this.peek() === '?') {
      // Only the non-capturing group; lookaround, named groups and flags stay on RE2.
      if (this.peek(1) !== ':') throw new OutsideSubset();
      this.pos += 2;
    }
    const body = this.alternation();
    if (this.peek() !== ')') throw new OutsideSubset();
    this.pos++;
    return { kind: 'group', body };
  }

  private escapeOutsideClass(): Node {
    const item = this.escape();
    return { kind: 'char', source: typeof item === 'number' ? literalSource(item) : item.perlClass };
  }

  /** After a backslash: a literal code point, or a Perl class (`\d` …). Anything else is refused. */
  private escape(): number | { perlClass: string } {
    this.pos++; // backslash
    const c = this.peek();
    if (c === undefined) throw new OutsideSubset();
    this.pos++;
    if (PERL_CLASSES.has(c)) return { perlClass: `\\${c}` };
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return control;
    // RE2: a backslash before ASCII punctuation is that character. Letters and digits
    // (backreferences, \b, \s, \p, \x, \Q, \z …) are left to RE2.
    const code = c.charCodeAt(0);
    if (code >= 0x20 && code < 0x7f && !isAlphanumeric(c)) return code;
    throw new OutsideSubset();
  }

  private bracketClass(): Node {
    this.pos++; // [
    let negated = false;
    if (this.peek() === '^') {
      this.pos++;
      negated = true;
    }
    // RE2 reads a leading `]` as a literal; ECMAScript `[]` is an empty class.
    if (this.peek() === ']') throw new OutsideSubset();
    const items: string[] = [];
    while (this.peek() !== ']') {
      const lo = this.classItem();
      // Mirrors RE2: `x-y` is a range unless the `-` is followed by `]`.
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        if (typeof lo !== 'number') throw new OutsideSubset(); // `[\d-z]`: RE2 and ECMAScript disagree
        this.pos++;
        const hi = this.classItem();
        if (typeof hi !== 'number' || hi < lo) throw new OutsideSubset();
        items.push(`${literalSource(lo)}-${literalSource(hi)}`);
      } else {
        items.push(typeof lo === 'number' ? literalSource(lo) : lo.perlClass);
      }
    }
    this.pos++; // ]
    return { kind: 'char', source: `[${negated ? '^' : ''}${items.join('')}]` };
  }

  private classItem(): number | { perlClass: string } {
    const c = this.peek();
    if (c === undefined) throw new OutsideSubset(); // unterminated
    if (c === '\\') return this.escape();
    // `[:alpha:]` and nested classes mean different things in the two dialects.
    if (c === '[') throw new OutsideSubset();
    return this.codePoint();
  }
}

function hasLeadingZero(digits: string): boolean {
  return digits.length > 1 && digits.startsWith('0');
}

function emit(node: Node): string {
  switch (node.kind) {
    case 'char':
    case 'anchor':
      return node.source;
    case 'group':
      return `(?:${emit(node.body)})`;
    case 'alternation':
      return node.branches.map(emit).join('|');
    case 'sequence':
      // A bare alternation inside a sequence only comes from a group, which emit wraps already.
      return node.items.map(emit).join('');
    case 'repeat': {
      const { min, max } = node;
      const bounds =
        max === Infinity ? (min === 0 ? '*' : min === 1 ? '+' : `{${min},}`) : min === max ? `{${min}}` : min === 0 && max === 1 ? '?' : `{${min},${max}}`;
      return `${emit(node.body)}${bounds}${node.lazy ? '?' : ''}`;
    }
  }
}

/** Cost of matching a subtree from one position with a backtracking engine (see the top comment). */
interface Cost {
  /** Ways through the subtree (leaves of its backtracking tree); the unbounded quantifier counts as one. */
  readonly ways: number;
  /** Steps to explore every way (nodes of its backtracking tree). */
  readonly steps: number;
  /** Unbounded quantifiers inside. */
  readonly unbounded: number;
}

const EMPTY: Cost = { ways: 1, steps: 1, unbounded: 0 };

/** Then: each way through `first` continues with a full exploration of `rest`. */
function sequenceCost(first: Cost, rest: Cost): Cost {
  return { ways: first.ways * rest.ways, steps: first.steps + first.ways * rest.steps, unbounded: first.unbounded + rest.unbounded };
}

/** Cost of a subtree, or undefined when it breaks the rules or the step budget. */
function cost(node: Node, insideRepeat: boolean): Cost | undefined {
  switch (node.kind) {
    case 'char':
    case 'anchor':
      return { ways: 1, steps: 1, unbounded: 0 };
    case 'group':
      return cost(node.body, insideRepeat);
    case 'alternation': {
      let total: Cost = { ways: 0, steps: 0, unbounded: 0 };
      for (const branch of node.branches) {
        const c = cost(branch, insideRepeat);
        if (c === undefined) return undefined;
        total = { ways: total.ways + c.ways, steps: total.steps + c.steps + 1, unbounded: total.unbounded + c.unbounded };
      }
      return total;
    }
    case 'sequence': {
      // Folded from the end so each item pays for the exploration of everything after it.
      let total = EMPTY;
      for (let i = node.items.length - 1; i >= 0; i--) {
        const c = cost(node.items[i]!, insideRepeat);
        if (c === undefined) return undefined;
        total = sequenceCost(c, total);
        if (total.steps > MAX_STEPS) return undefined;
      }
      return total;
    }
    case 'repeat': {
      if (node.max === Infinity) {
        // Only a single character may repeat without bound, and never where a repeat re-enters it.
        if (node.body.kind !== 'char' || insideRepeat) return undefined;
        return { ways: 1, steps: 1 + node.min, unbounded: 1 };
      }
      const body = cost(node.body, true);
      if (body === undefined) return undefined;
      // x{min,max} explores like x^min followed by (x(x(…)?)?)? nested max-min deep.
      let total = EMPTY;
      for (let j = 0; j < node.max - node.min; j++) {
        const more = sequenceCost(body, total);
        total = { ways: more.ways + 1, steps: more.steps + 1, unbounded: more.unbounded };
        if (total.steps > MAX_STEPS) return undefined;
      }
      for (let i = 0; i < node.min; i++) {
        total = sequenceCost(body, total);
        if (total.steps > MAX_STEPS) return undefined;
      }
      return total;
    }
  }
}

function startsWithCaret(node: Node): boolean {
  if (node.kind === 'anchor') return node.source === '^';
  return node.kind === 'sequence' && node.items[0]?.kind === 'anchor' && node.items[0].source === '^';
}

/** True when a backtracking engine runs the parsed pattern in time linear in the input. */
function isLinear(root: Node): boolean {
  const c = cost(root, false);
  if (c === undefined || c.steps > MAX_STEPS || c.unbounded > 1) return false;
  return c.unbounded === 0 || startsWithCaret(root);
}

/**
 * A native RegExp (with the `u` flag) that matches exactly the strings RE2 matches for `pattern`
 * and runs in linear time, or undefined when that cannot be shown (then use RE2). Unanchored
 * `.test` semantics, as ajv uses for `pattern` and `patternProperties`. Pure; never throws.
 * It does not check that RE2 accepts the pattern: callers compile with RE2 first.
 */
export function nativeEquivalent(pattern: string): RegExp | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return undefined;
  let root: Node;
  try {
    root = new Parser(pattern).parse();
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
  if (!isLinear(root)) return undefined;
  try {
    return new RegExp(emit(root), 'u');
  } catch {
    return undefined; // cannot happen for the subset; RE2 remains the safe answer if it does
  }
}
