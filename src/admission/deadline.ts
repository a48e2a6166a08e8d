/**
 * The API server appends `?timeout=10s` (a Go duration: the time left for this call). We use it as
 * the request's deadline: no point judging, or waiting for a body, past the moment it gave up.
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration ("10s", "1m30s", "500ms"); undefined when malformed or not positive. */
export function parseGoDuration(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed === text.length && total > 0 ? total : undefined;
}

/** The API server's default and maximum webhook timeouts. */
export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_TIMEOUT_MS = 30_000;

export function timeoutFromQuery(value: unknown): number {
  const parsed = parseGoDuration(value);
  return Math.min(parsed ?? DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS);
}
