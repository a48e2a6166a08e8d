/** What a client-node call failed with: the HTTP status, and one line of message. */

export function statusOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  for (const value of [e?.code, e?.statusCode, e?.response?.statusCode]) if (typeof value === 'number') return value;
  return undefined;
}

export function firstLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split('\n')[0]!;
}
