/**
 * A failure of ours while judging (a registry or a compiled schema that threw), as opposed to a
 * problem of the object. The pure validators let it through their own catch-alls so the caller can
 * fail closed the way it fails closed on any bug: the webhook denies with code 500, counts it in
 * backend_webhook_internal_errors_total{source} and logs it; the offline CLI reports the object as
 * not admitted. Never a silent pass: a rawConfig nobody could check is not admitted.
 */
export class JudgingFailure extends Error {
  constructor(
    /** Metric label: what failed (e.g. `schema-lookup`). */
    readonly source: 'schema-lookup' | 'schema-validate',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JudgingFailure';
  }
}
