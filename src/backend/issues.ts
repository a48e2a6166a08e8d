/** What rules report: a field error plus the parts of the object it depends on (for ratcheting). */
import type { FieldError } from './field-errors.js';
import { MAX_COLLECTED_ISSUES } from './limits.js';
import type { Segments } from './paths.js';

export interface Issue {
  readonly error: FieldError;
  /**
   * The values the verdict depends on. On UPDATE, when every one of them is unchanged from the old
   * object, the problem is ratcheted: said as a warning instead of denying the request.
   */
  readonly scope: readonly Segments[];
}

/**
 * Collects what the rules find, in the order they find it, up to MAX_COLLECTED_ISSUES problems
 * (and as many warnings); past that, problems are only counted (`dropped`).
 */
export class Findings {
  readonly issues: Issue[] = [];
  readonly warnings: string[] = [];
  /** Problems found after the collection was full. */
  dropped = 0;

  /** Enough problems are collected: callers may stop looking for more (schema validation fails fast). */
  get full(): boolean {
    return this.issues.length >= MAX_COLLECTED_ISSUES;
  }

  report(error: FieldError, scope: readonly Segments[]): void {
    if (this.issues.length >= MAX_COLLECTED_ISSUES) this.dropped++;
    else this.issues.push({ error, scope });
  }

  warn(text: string): void {
    if (this.warnings.length < MAX_COLLECTED_ISSUES) this.warnings.push(text);
  }
}
