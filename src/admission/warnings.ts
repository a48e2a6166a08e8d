/**
 * Warnings as the API server will show them: it silently drops one with a control character,
 * cuts long ones, and shares 4,096 characters among all webhooks of a request. We stay well inside.
 */
export const MAX_WARNING_LENGTH = 119;
const MAX_TOTAL = 2048;

export function sanitizeWarnings(warnings: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const raw of warnings) {
    // eslint-disable-next-line no-control-regex
    let w = raw.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
    if (!w) continue;
    if (w.length > MAX_WARNING_LENGTH) w = `${w.slice(0, MAX_WARNING_LENGTH - 3)}...`;
    if (seen.has(w)) continue;
    if (total + w.length > MAX_TOTAL) break;
    seen.add(w);
    total += w.length;
    out.push(w);
  }
  return out;
}
