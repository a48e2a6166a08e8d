import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { nativeEquivalent } from '../../src/schemas/linear-pattern.js';

/** RE2's verdict, or undefined when RE2 refuses the pattern. */
function re2Test(pattern: string): ((s: string) => boolean) | undefined {
  try {
    const re = RE2JS.compile(pattern);
    return (s) => re.test(s);
  } catch {
    return undefined;
  }
}

/** Characters where the two dialects are most likely to part ways. */
const TRICKY_CHARS = [
  'a', 'b', 'c', 'z', 'A', 'Z', '0', '1', '9', '_', '-', '.', '/', ':', '#', '?', ' ', '\\', '[', ']', '^', '$',
  '{', '}', '(', ')', '*', '+', '|', ',', '\n', '\r', '\t', '\v', '\f', '\u2028', '\u2029', '\u0085', '\u00a0',
  'é', 'ß', '٣', 'K', '\u212a', '😀', '😁', '\ud83d', '\ud800', '\udc00',
];

describe('nativeEquivalent: what qualifies', () => {
  const accepted = [
    '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', // DNS label (bench fixture)
    '^/[^?#]*$', // path prefix (bench fixture)
    '^[a-z0-9]([-a-z0-9]{0,253}[a-z0-9])?$',
    '^x-',
    'abc',
    '^\\d{1,3}(\\.\\d{1,3}){3}$',
    '^(https?|ftp)://[^ ]+$',
    '^[A-Za-z_][-A-Za-z0-9._]*$',
    '^\\-\\_\\/\\.\\ $', // escaped punctuation that ECMAScript `u` mode would refuse verbatim
    '^[\\]\\[\\-\\\\]$',
    '^.*$', // `.` is translated
    '^\\w+$',
    '^\\D\\W$',
    '^[^\\d\\w]?$',
    '(a|b)c?',
    '(?:ab|cd){2}',
    '^a*?b??$',
    '^a{3,}$',
    '^😀+$',
    '',
    '()',
    'a|',
    '^\\n\\r\\t\\f\\v$',
    'a{0,1000}', // unanchored, but bounded per start position
  ];
  it.each(accepted)('runs %j natively', (pattern) => {
    expect(re2Test(pattern)).toBeDefined();
    expect(nativeEquivalent(pattern)).toBeInstanceOf(RegExp);
  });

  const refused: Array<[string, string]> = [
    ['(a+)+$', 'unbounded quantifier on a group'],
    ['(a|a)*$', 'unbounded quantifier on a group'],
    ['^(a|ab)*c', 'unbounded quantifier on a group'],
    ['\\d+\\d+$', 'two unbounded quantifiers'],
    ['^a*a*$', 'two unbounded quantifiers'],
    ['(x+x+)+y', 'nested unbounded quantifiers'],
    ['a+b', 'unbounded quantifier without a leading ^'],
    ['x|^a+', 'top-level alternation escapes the anchor'],
    ['(^a+)', 'anchor inside a group'],
    ['^(a+b){0,3}$', 'unbounded quantifier re-entered by a repeat'],
    ['^(a*){2}$', 'unbounded quantifier re-entered by a repeat'],
    ['a{0,100000}', 'count beyond RE2s limit'],
    ['(a|a){0,12}c', 'too many ways (exponential in the count)'],
    ['^((a|b){0,9}){0,9}$', 'too many ways'],
    ['(a)\\1', 'backreference'],
    ['(?=a)', 'lookahead'],
    ['(?!a)b', 'negative lookahead'],
    ['(?<=a)b', 'lookbehind'],
    ['(?P<name>a)', 'named group'],
    ['(?<name>a)', 'named group'],
    ['(?i)a', 'flags'],
    ['(?s:.)', 'flags group'],
    ['\\s', '\\s differs (\\v, \\u00a0, \\u2028 ...)'],
    ['\\S', '\\S differs'],
    ['\\b', 'word boundary'],
    ['\\B', 'word boundary'],
    ['\\pL', 'Unicode class'],
    ['\\p{Greek}', 'Unicode class'],
    ['\\x41', 'hex escape'],
    ['\\Q.\\E', 'quoting'],
    ['\\A', 'RE2-only anchor'],
    ['\\z', 'RE2-only anchor'],
    ['[[:alpha:]]', 'POSIX class'],
    ['[]a]', 'leading ] is literal in RE2, empty class in ECMAScript'],
    ['[^]a]', 'same, negated'],
    ['[\\d-z]', 'class escape as a range end'],
    ['a{,3}', 'not a repeat in RE2 (literal text)'],
    ['a{01}', 'leading zero: literal text in RE2'],
    ['a{', 'literal { in RE2, syntax error in ECMAScript u mode'],
    ['a}', 'literal } in RE2, syntax error in ECMAScript u mode'],
    ['a]', 'literal ] in RE2, syntax error in ECMAScript u mode'],
    ['a**', 'nested repetition'],
    ['a{2}{3}', 'nested repetition'],
    ['^*', 'quantified anchor'],
    ['*a', 'nothing to repeat'],
    ['(a', 'unbalanced'],
    ['a)', 'unbalanced'],
    ['[a', 'unterminated class'],
    ['\\', 'trailing backslash'],
    ['[z-a]', 'reversed range'],
    ['\ud800', 'lone surrogate in the pattern'],
    [`^${'a'.repeat(1001)}$`, 'longer than 1,000 characters'],
  ];
  it.each(refused)('leaves %j to RE2 (%s)', (pattern) => {
    expect(nativeEquivalent(pattern)).toBeUndefined();
  });

  it('re-emits escapes in a form ECMAScript accepts and matches like RE2', () => {
    for (const pattern of ['^\\-\\_\\ $', '^[\\-a]+$', '^a{2,}$', '^[a-c-e]$', '^[--/]$', '^[a-]$', '^(a|)$']) {
      const native = nativeEquivalent(pattern)!;
      const re2 = re2Test(pattern)!;
      for (const s of ['-_ ', '-a-', 'a', 'aa', 'aaa', 'b', 'd', '-', '.', '/', '']) expect(native.test(s), `${pattern} on ${JSON.stringify(s)}`).toBe(re2(s));
    }
  });
});

describe('nativeEquivalent: same verdict as RE2', () => {
  it('agrees with RE2 on the tricky characters for hand-picked patterns', () => {
    const patterns = [
      '.', '^.$', '^..$', '^.*$', '[^a]', '^[^a]$', '^[^a]{2}$', '\\D', '^\\D$', '^\\W$', '^\\w$', '^\\d$', 'a$', '^a',
      '^😀$', '^[😀-😁]$', '^[^😀]$', '^\\.$', '^\\\\$', '^[\\^]$', '^[\\[\\]]$', '^\\$$', '^\\n$', '^\\v$', '^\\f$',
    ];
    const strings = ['', ...TRICKY_CHARS, ...TRICKY_CHARS.map((c) => `${c}a`), ...TRICKY_CHARS.map((c) => `a${c}`), '😀😀', '\ud83d\ud83d', 'a\n'];
    for (const pattern of patterns) {
      const native = nativeEquivalent(pattern);
      expect(native, pattern).toBeDefined();
      const re2 = re2Test(pattern)!;
      for (const s of strings) expect(native!.test(s), `${pattern} on ${JSON.stringify(s)}`).toBe(re2(s));
    }
  });

  // Patterns from the subset (and a little beyond it, to exercise the refusals), in RE2 syntax.
  const literal = fc.constantFrom('a', 'b', 'c', '0', '9', 'Z', '-', '_', '/', ':', ',', '#', ' ', 'é', '😀', '~', '\n');
  const escaped = fc.constantFrom(
    '\\.', '\\-', '\\_', '\\/', '\\ ', '\\#', '\\?', '\\*', '\\+', '\\(', '\\)', '\\[', '\\]', '\\{', '\\}', '\\|', '\\^', '\\$', '\\\\',
    '\\n', '\\r', '\\t', '\\f', '\\v', '\\d', '\\D', '\\w', '\\W', '.', '\\s', '\\b',
  );
  const classItem = fc.oneof(
    fc.constantFrom('a', 'b', 'z', '0', '9', '-', '_', '/', '.', ' ', 'é', '😀', '?', '#', '*', '+', '(', ')', '|', '$', '{', '}', '\n', '\u2028'),
    fc.constantFrom('\\]', '\\-', '\\\\', '\\^', '\\[', '\\n', '\\r', '\\.', '\\d', '\\D', '\\w', '\\W'),
    fc.constantFrom('a-c', '0-9', 'a-z', 'A-Z', '\\.-9', ' -/', '😀-😁', '\u0000-\u00ff'),
  );
  const bracket = fc
    .tuple(fc.boolean(), fc.array(classItem, { minLength: 1, maxLength: 3 }))
    .map(([negated, items]) => `[${negated ? '^' : ''}${items.join('')}]`);
  const quantifier = fc.oneof(
    { weight: 6, arbitrary: fc.constant('') },
    { weight: 3, arbitrary: fc.constantFrom('?', '{2}', '{0,3}', '{1,2}', '??', '{0,2}?') },
    { weight: 1, arbitrary: fc.constantFrom('*', '+', '{1,}', '*?', '+?') },
  );
  const { pattern } = fc.letrec<{ pattern: string; alternation: string; sequence: string; term: string }>((tie) => ({
    pattern: fc
      .tuple(fc.constantFrom('', '^', '^'), tie('alternation'), fc.constantFrom('', '$'))
      .map(([start, body, end]) => `${start}${body}${end}`),
    alternation: fc.array(tie('sequence'), { minLength: 1, maxLength: 3 }).map((branches) => branches.join('|')),
    sequence: fc.array(tie('term'), { minLength: 0, maxLength: 4 }).map((terms) => terms.join('')),
    term: fc.tuple(
      fc.oneof(
        { depthSize: 'small' },
        { weight: 4, arbitrary: literal },
        { weight: 3, arbitrary: escaped },
        { weight: 3, arbitrary: bracket },
        { weight: 1, arbitrary: fc.constantFrom('^', '$') },
        {
          weight: 2,
          arbitrary: fc
            .tuple(fc.constantFrom('(', '(?:'), tie('alternation'))
            .map(([open, body]) => `${open}${body})`),
        },
      ),
      quantifier,
    ).map(([atom, q]) => (atom === '^' || atom === '$' ? atom : `${atom}${q}`)),
  }));

  const subject = fc.oneof(
    fc.array(fc.constantFrom(...TRICKY_CHARS), { maxLength: 10 }).map((cs) => cs.join('')),
    fc.string({ unit: 'binary', maxLength: 6 }), // any code points, lone surrogates included
    fc.constant(''),
  );

  it('for generated patterns in the subset, native .test equals RE2 .test on random strings', () => {
    const tally = { accepted: 0, matched: 0, unmatched: 0 };
    fc.assert(
      fc.property(pattern, fc.array(subject, { minLength: 40, maxLength: 40 }), (p, strings) => {
        const re2 = re2Test(p);
        if (re2 === undefined) return; // RE2 refuses it: compile.ts refuses it before asking us
        const native = nativeEquivalent(p);
        if (native === undefined) return;
        tally.accepted++;
        for (const s of strings) {
          const verdict = re2(s);
          if (native.test(s) !== verdict) throw new Error(`${JSON.stringify(p)} -> ${native} disagrees with RE2 on ${JSON.stringify(s)} (RE2: ${verdict})`);
          if (verdict) tally.matched++;
          else tally.unmatched++;
        }
      }),
      { numRuns: 3000, seed: 20240606 },
    );
    // The generator must actually exercise the comparison, both ways.
    expect(tally.accepted).toBeGreaterThan(1000);
    expect(tally.matched).toBeGreaterThan(5000);
    expect(tally.unmatched).toBeGreaterThan(5000);
  });
});
