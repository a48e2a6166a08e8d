/**
 * Policy warnings within kubectl's one-line budget (MAX_WARNING_LENGTH, 119 characters). What a
 * reader acts on comes first and is never cut: the policy (`namespace/name`), the rule and the
 * consequence. Then the field and the problem (with its value), which are shortened when the whole
 * does not fit: the field keeps its end (`...[0].rawConfig/secretRef`), the problem is cut last.
 */
import { MAX_WARNING_LENGTH } from '../backend/validate.js';
import { printable } from '../backend/paths.js';

const ELLIPSIS = '...';
/** The head (policy, rule, consequence) never takes more than this; a longer policy name is shortened in the middle. */
const MAX_HEAD = 100;
/** A shortened field keeps at least this many characters. */
const MIN_FIELD = 16;

function middle(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = max - ELLIPSIS.length;
  const front = Math.ceil(keep / 2);
  return `${text.slice(0, front)}${ELLIPSIS}${text.slice(text.length - (keep - front))}`;
}

/** The end of a field path, from a segment boundary when one is near (`...[0].tls.mode`, not `...s[0].tls.mode`). */
function keepEnd(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = text.slice(text.length - (max - ELLIPSIS.length));
  const boundary = tail.search(/[.[/]/);
  const start = boundary > 0 && boundary <= 8 ? (tail[boundary] === '[' ? boundary : boundary + 1) : 0;
  return `${ELLIPSIS}${tail.slice(start)}`;
}
const cutEnd = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, Math.max(0, max - ELLIPSIS.length))}${ELLIPSIS}`);

export interface WarningParts {
  /** `namespace/name` of the policy. */
  readonly policy: string;
  /** The rule, with any qualifier (`allowedPorts`, `deniedDestinations, namespace unknown`). */
  readonly rule: string;
  /** What happens, when it is not just "a warning" (`unchanged, so allowed`). */
  readonly consequence?: string;
  /** The field the problem is at (may be shortened). */
  readonly field: string;
  /** The problem, with the offending value (may be cut). */
  readonly problem: string;
}

/** `policy <ns/name> (<rule>)[: <consequence>]: <field>: <problem>`, at most `max` characters. */
export function policyWarning(parts: WarningParts, max = MAX_WARNING_LENGTH): string {
  const consequence = parts.consequence ? `: ${printable(parts.consequence)}` : '';
  const rule = printable(parts.rule);
  const fixed = `policy  (${rule})${consequence}`.length;
  const policy = middle(printable(parts.policy), Math.max(12, MAX_HEAD - fixed));
  return headFirst(`policy ${policy} (${rule})${consequence}`, printable(parts.field), printable(parts.problem), max);
}

/** `<head>: <field>: <problem>` within `max`: the head whole, then the field (keeping its end), then the problem. */
export function headFirst(head: string, field: string, problem: string, max = MAX_WARNING_LENGTH): string {
  const clippedHead = cutEnd(head, Math.min(max, MAX_HEAD + 20));
  const join = (f: string, p: string): string => [clippedHead, ...(f ? [f] : []), p].join(': ');
  const whole = join(field, problem);
  if (whole.length <= max) return whole;
  // Room left for field and problem after the head and the separators.
  const room = max - clippedHead.length - (field ? 4 : 2);
  if (room <= ELLIPSIS.length) return cutEnd(clippedHead, max);
  // The field gets what the problem does not need, down to MIN_FIELD; then the problem is cut.
  const fieldMax = Math.min(room, Math.max(room - problem.length, Math.min(MIN_FIELD, field.length)));
  const shortField = keepEnd(field, fieldMax);
  return cutEnd(join(shortField, problem), max);
}
