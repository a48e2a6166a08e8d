/** The outcome of an offline run: per-object results, input problems, the summary and the exit code. */
import type { ObjectResult } from './judge.js';
import { isIoProblem, type InputProblem } from './problems.js';

export interface OfflineSummary {
  /** Objects sent through the processors (Backends, XBackendDestinations, labelled ConfigMaps; with --strict also refused unknown kinds). */
  readonly judged: number;
  readonly valid: number;
  readonly invalid: number;
  /** Warnings across all objects. */
  readonly warnings: number;
  readonly skipped: number;
  /** Documents that did not parse or were not objects. */
  readonly brokenDocuments: number;
  /** Paths that could not be read (and unusable --schema-dir content). */
  readonly ioErrors: number;
}

export interface OfflineReport {
  /** Files read, in reading order (command-line order; directories walked in name order). */
  readonly files: readonly string[];
  readonly results: readonly ObjectResult[];
  readonly problems: readonly InputProblem[];
  readonly summary: OfflineSummary;
}

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_IO = 2;

export function buildReport(files: readonly string[], results: readonly ObjectResult[], problems: readonly InputProblem[]): OfflineReport {
  let valid = 0;
  let invalid = 0;
  let skipped = 0;
  let warnings = 0;
  for (const r of results) {
    if (r.outcome === 'valid') valid++;
    else if (r.outcome === 'invalid') invalid++;
    else skipped++;
    warnings += r.warnings.length;
  }
  const ioErrors = problems.filter(isIoProblem).length;
  return {
    files,
    results,
    problems,
    summary: { judged: valid + invalid, valid, invalid, warnings, skipped, brokenDocuments: problems.length - ioErrors, ioErrors },
  };
}

/** 2 when some input could not be read, else 1 when an object is invalid or a document broken, else 0. */
export function exitCodeOf(report: OfflineReport): number {
  const s = report.summary;
  if (s.ioErrors > 0) return EXIT_IO;
  if (s.invalid > 0 || s.brokenDocuments > 0) return EXIT_INVALID;
  return EXIT_VALID;
}
