/** The Markdown helpers the documentation tests stand on. */
import { describe, expect, it } from 'vitest';
import { anchors, codeSpans, headingSlugs, linkTargets, tableCells } from './markdown.js';

describe('markdown helpers', () => {
  it('slugs headings as GitHub does', () => {
    const slugs = headingSlugs('# Audit: what is already stored\n## `spec.destination`: type and one-of\n## What the certificates hold, and how to check them with a Go client\n## Usage\n## Usage\n```\n# not a heading\n```\n');
    expect([...slugs]).toEqual(['audit-what-is-already-stored', 'specdestination-type-and-one-of', 'what-the-certificates-hold-and-how-to-check-them-with-a-go-client', 'usage', 'usage-1']);
  });

  it('takes explicit HTML anchors as anchors too', () => {
    expect([...anchors('## Decisions\n- **Bounded.** <a id="bounded-cost"></a>text `<a id="in-code">`\n')]).toEqual(['decisions', 'bounded-cost']);
  });

  it('reads code spans with backticks inside, and table cells with bars inside code', () => {
    expect(codeSpans('a `x` b `` y `z` `` c')).toEqual(['x', 'y `z`']);
    expect(tableCells('| `a|b` | c \\| d | e |')).toEqual(['`a|b`', 'c | d', 'e']);
  });

  it('finds links outside code only', () => {
    const text = '[a](docs/a.md) `[b](b.md)`\n```\n[c](c.md)\n```\n[d]: ../d.md\n<a href="e.md">e</a> ![i](img.png "t")';
    expect(linkTargets(text).map((l) => l.target)).toEqual(['docs/a.md', '../d.md', 'img.png', 'e.md']);
  });
});
