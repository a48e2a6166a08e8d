/** What rules report: a field error plus the parts of the object it depends on (for ratcheting). */
import type { FieldError } from './field-errors.js';
import type { Segments } from './paths.js';

export interface Issue {
  readonly error: FieldError;
  /**
   * The values the verdict depends on. On UPDATE, when every one of them is unchanged from the old
   * object, the problem is ratcheted: said as a warning instead of denying the request.
   */
  readonly scope: readonly Segments[];
}

/** Collects what the rules find, in the order they find it. */
export class Findings {
  readonly issues: Issue[] = [];
  readonly warnings: string[] = [];

  report(error: FieldError, scope: readonly Segments[]): void {
    this.issues.push({ error, scope });
  }

  warn(text: string): void {
    this.warnings.push(text);
  }
}
