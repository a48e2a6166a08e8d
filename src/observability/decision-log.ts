/**
 * The one log line per admission decision, in exactly the shape pino writes, without pino's generic
 * per-field work: at one line per admission, pino's work cost about a fifth of an admission's CPU
 * (docs/benchmarks.md). Level, time, bindings and stream are the logger's own, so the line is
 * indistinguishable from `logger.info(fields, message)` for a logger without formatters, mixins or
 * serializers (ours has none); every other line still goes through pino.
 */
import pino, { type Logger } from 'pino';

type PinoInternals = Record<symbol, unknown>;

export type DecisionLine = (fields: Record<string, unknown>) => void;

/** Writers with lines still waiting for the end of the turn; written out on exit as well. */
const waiting = new Set<() => void>();
process.on('exit', () => {
  for (const flush of waiting) flush();
});

/**
 * Lines are formatted and written together at the end of the event-loop turn (one write for all the
 * admissions judged in it, with the formatting code hot), each stamped with its own time.
 */
export function decisionLineWriter(logger: Logger, message: string): DecisionLine {
  const internals = logger as unknown as PinoInternals;
  const messageKey = (internals[pino.symbols.messageKeySym] as string | undefined) ?? 'msg';
  const tail = `,${JSON.stringify(messageKey)}:${JSON.stringify(message)}}\n`;
  const level = logger.levels.values['info'];
  let times: string[] = [];
  let pending: Array<Record<string, unknown>> = [];
  const flush = (): void => {
    waiting.delete(flush);
    const batchTimes = times;
    const batch = pending;
    times = [];
    pending = [];
    const bindings = internals[pino.symbols.chindingsSym] as string;
    let out = '';
    for (let i = 0; i < batch.length; i++) {
      // JSON.stringify drops undefined values, as pino does; '{}' has no fields to splice in.
      const body = JSON.stringify(batch[i]);
      out += `{"level":${level}${batchTimes[i]}${bindings}${body.length > 2 ? `,${body.slice(1, -1)}` : ''}${tail}`;
    }
    if (out) (internals[pino.symbols.streamSym] as { write(line: string): unknown }).write(out);
  };
  return (fields) => {
    if (!logger.isLevelEnabled('info')) return;
    times.push((internals[pino.symbols.timeSym] as () => string)());
    pending.push(fields);
    if (pending.length === 1) {
      waiting.add(flush);
      setImmediate(flush);
    }
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
