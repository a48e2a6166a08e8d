/**
 * Nothing in the repository links outside it: every relative link of every Markdown file resolves
 * to a file or directory of the repository, and a `#anchor` to a heading of its target (GitHub's
 * slugs). A user's clone has only the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchors, linkTargets } from './markdown.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Not the repository's own text: dependencies, build output, generated certificates, VCS data. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'certs', 'coverage']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : markdownFiles(join(dir, entry.name));
    return entry.name.endsWith('.md') ? [join(dir, entry.name)] : [];
  });
}

/** A target with a scheme (https:, mailto:) or a protocol-relative one is not a relative link. */
const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

const slugCache = new Map<string, Set<string>>();
const slugsOf = (file: string): Set<string> => {
  let slugs = slugCache.get(file);
  if (!slugs) {
    slugs = anchors(readFileSync(file, 'utf8'));
    slugCache.set(file, slugs);
  }
  return slugs;
};

/** Why `target`, written in `file`, does not resolve inside the repository; undefined when it does. */
export function brokenLink(file: string, target: string): string | undefined {
  if (isExternal(target)) return undefined;
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = pathPart === '' ? file : pathPart.startsWith('/') ? join(ROOT, pathPart) : resolve(dirname(file), pathPart);
  const inside = relative(ROOT, resolved);
  if (inside === '..' || inside.startsWith(`..${sep}`)) return 'leaves the repository';
  if (inside.split(sep).some((part) => SKIPPED_DIRS.has(part))) return 'points into a directory that is not part of the repository';
  if (!existsSync(resolved)) return 'no such file';
  if (anchor !== undefined && anchor !== '') {
    if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return 'an anchor into a file without headings';
    if (!slugsOf(resolved).has(anchor)) return `no heading with the anchor #${anchor}`;
  }
  return undefined;
}

describe('links in the repository', () => {
  const files = markdownFiles(ROOT);

  it('finds the documentation', () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['README.md', join('docs', 'rules.md'), join('docs', 'admission-contract.md')]));
  });

  it('has only relative links that resolve inside it, anchors included', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const { target, number } of linkTargets(readFileSync(file, 'utf8'))) {
        const why = brokenLink(file, target);
        if (why) broken.push(`${relative(ROOT, file)}:${number}: ${target}: ${why}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('tells broken links from good ones', () => {
    const readme = join(ROOT, 'README.md');
    expect(brokenLink(readme, '../shared/spec/backend-api.md')).toBe('leaves the repository');
    expect(brokenLink(readme, 'docs/no-such-page.md')).toBe('no such file');
    expect(brokenLink(readme, 'docs/rules.md#no-such-heading')).toBe('no heading with the anchor #no-such-heading');
    expect(brokenLink(readme, 'docs/rules.md#flags-that-change-the-rules')).toBeUndefined();
    expect(brokenLink(readme, '#decisions')).toBeUndefined();
    expect(brokenLink(readme, '#bounded-cost-per-request')).toBeUndefined(); // an explicit <a id>
    expect(brokenLink(readme, 'https://github.com/kubernetes-sigs/wg-ai-gateway')).toBeUndefined();
  });
});
