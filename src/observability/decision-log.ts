/**
 * The one log line per admission decision, in exactly the shape pino writes, without pino's generic
 * per-field work: at one line per admission that work cost about a fifth of an admission's CPU
 * (docs/benchmarks.md). Level, time, bindings and stream are the logger's own, so the line is
 * indistinguishable from `logger.info(fields, message)` for a logger without formatters, mixins or
 * serializers (ours has none); every other line still goes through pino.
 */
import pino, { type Logger } from 'pino';

type PinoInternals = Record<symbol, unknown>;

export type DecisionLine = (fields: Record<string, unknown>) => void;

export function decisionLineWriter(logger: Logger, message: string): DecisionLine {
  const internals = logger as unknown as PinoInternals;
  const messageKey = (internals[pino.symbols.messageKeySym] as string | undefined) ?? 'msg';
  const tail = `,${JSON.stringify(messageKey)}:${JSON.stringify(message)}}\n`;
  return (fields) => {
    if (!logger.isLevelEnabled('info')) return;
    const time = (internals[pino.symbols.timeSym] as () => string)();
    const bindings = internals[pino.symbols.chindingsSym] as string;
    const stream = internals[pino.symbols.streamSym] as { write(line: string): unknown };
    // JSON.stringify drops undefined values, as pino does; '{}' has no fields to splice in.
    const body = JSON.stringify(fields);
    stream.write(`{"level":${logger.levels.values['info']}${time}${bindings}${body.length > 2 ? `,${body.slice(1, -1)}` : ''}${tail}`);
  };
}

/** pino's isoTime, computed once per millisecond: at thousands of lines a second most share one. */
export function cachedIsoTime(): () => string {
  let lastMs = -1;
  let fragment = '';
  return () => {
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      fragment = `,"time":"${new Date(now).toISOString()}"`;
    }
    return fragment;
  };
}
