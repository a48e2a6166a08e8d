/**
 * Warnings as the API server will show them: it silently drops one with a control character,
 * cuts long ones, and shares 4,096 characters among all webhooks of a request. Each warning is
 * bounded by the same rule the validators use; here we only dedupe and stay well inside the total.
 */
import { boundedWarning } from '../backend/validate.js';

const MAX_TOTAL = 2048;

export function sanitizeWarnings(warnings: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const raw of warnings) {
    const w = boundedWarning(raw).trim();
    if (!w || seen.has(w)) continue;
    if (total + w.length > MAX_TOTAL) break;
    seen.add(w);
    total += w.length;
    out.push(w);
  }
  return out;
}
