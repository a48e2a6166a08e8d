/**
 * Collects the text of every input: files as given, directories walked recursively (their
 * `.yaml`, `.yml` and `.json` files, dot-entries skipped, sorted so output is stable), `-` for
 * standard input. A path that cannot be read is a problem for the report, not a crash, so the
 * other inputs are still checked.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { STDIN_NAME } from './documents.js';
import type { InputProblem } from './problems.js';

export interface InputFile {
  /** Display path: as the user wrote it, joined with the relative path inside a directory, `/` separators. */
  readonly file: string;
  readonly text: string;
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;
/** Far above any manifest; refuses a mistaken argument (a disk image, a log) before reading it. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

const display = (p: string): string => p.split(path.sep).join('/');

export interface ReadInputsOptions {
  /** Reads standard input to its end; injectable for tests. */
  readStdin?: () => Promise<string>;
}

export async function readInputs(paths: readonly string[], options: ReadInputsOptions = {}): Promise<{ files: InputFile[]; problems: InputProblem[] }> {
  const files: InputFile[] = [];
  const problems: InputProblem[] = [];
  let stdinRead = false;
  // A file named twice (directly and through its directory) is checked once.
  const seen = new Set<string>();
  for (const given of paths) {
    if (given === '-') {
      if (stdinRead) continue; // standard input can only be read once
      stdinRead = true;
      try {
        files.push({ file: STDIN_NAME, text: await (options.readStdin ?? readStandardInput)() });
      } catch (err) {
        problems.push({ code: 'ReadFailed', file: STDIN_NAME, message: `cannot read standard input: ${(err as Error).message}` });
      }
      continue;
    }
    let stat;
    try {
      stat = await fs.stat(given);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(
        code === 'ENOENT'
          ? { code: 'PathNotFound', file: display(given), message: 'no such file or directory' }
          : { code: 'ReadFailed', file: display(given), message: `cannot read: ${(err as Error).message}` },
      );
      continue;
    }
    const targets = stat.isDirectory() ? await walk(given, problems) : [given];
    for (const target of targets) {
      const resolved = path.resolve(target);
      if (seen.has(resolved)) continue;
      seen.add(resolved);
      const read = await readTextFile(target);
      if (typeof read === 'string') files.push({ file: display(target), text: read });
      else problems.push({ code: 'ReadFailed', file: display(target), message: read.message });
    }
  }
  return { files, problems };
}

/** Manifest files under a directory, depth first in name order; symlink loops are visited once. */
async function walk(root: string, problems: InputProblem[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    let real: string;
    let entries;
    try {
      real = await fs.realpath(dir);
      if (seen.has(real)) return;
      seen.add(real);
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      problems.push({ code: 'ReadFailed', file: display(dir), message: `cannot read directory: ${(err as Error).message}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // .git, and a mounted ConfigMap's ..data links
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await fs.stat(full);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch {
          continue; // a dangling link inside a tree is not something the user asked for by name
        }
      }
      if (isDir) await visit(full);
      else if (isFile && MANIFEST_FILE.test(entry.name)) out.push(full);
    }
  };
  await visit(root);
  return out;
}

async function readTextFile(file: string): Promise<string | { message: string }> {
  try {
    const stat = await fs.stat(file);
    if (stat.size > MAX_INPUT_BYTES) return { message: `larger than ${MAX_INPUT_BYTES} bytes; not a manifest` };
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    return { message: `cannot read: ${(err as Error).message}` };
  }
}

async function readStandardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_INPUT_BYTES) throw new Error(`larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
