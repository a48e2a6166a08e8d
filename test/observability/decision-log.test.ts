import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { cachedIsoTime, decisionLineWriter } from '../../src/observability/decision-log.js';

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, lines };
}

const FIXED_TIME = (): string => ',"time":"2026-11-27T05:00:00.000Z"';
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// Field sets a decision line carries, including user-controlled strings that need escaping.
const FIELD_SETS: Array<Record<string, unknown>> = [
  { endpoint: 'validate', uid: 'u-1', kind: 'Backend', namespace: 'team-a', name: 'openai', operation: 'CREATE', dryRun: false, allowed: true, code: undefined, patched: false, durationMs: 0.123 },
  { endpoint: 'mutate', uid: 'u-2', name: 'we"ird\\name\n\u0001\u2028é𝄞', allowed: false, code: 422, causes: 3, warnings: 1, lateMs: 12 },
  { allowed: true },
  {},
];

describe('decisionLineWriter', () => {
  it.each(FIELD_SETS.map((f, i) => [i, f]))('writes byte for byte what pino writes (field set %i)', async (_i, fields) => {
    const ours = capture();
    const theirs = capture();
    const options = { level: 'info', base: { app: 'backend-webhook' }, timestamp: FIXED_TIME };
    decisionLineWriter(pino(options, ours.stream), 'admission decision')(fields);
    pino(options, theirs.stream).info(fields, 'admission decision');
    expect(ours.lines).toHaveLength(0); // written at the end of the turn
    await nextTurn();
    expect(ours.lines).toHaveLength(1);
    expect(ours.lines[0]).toBe(theirs.lines[0]);
  });

  it('writes the lines of one turn in one write, each as pino would, in order', async () => {
    const ours = capture();
    const theirs = capture();
    const options = { level: 'info', base: { app: 'backend-webhook' }, timestamp: FIXED_TIME };
    const write = decisionLineWriter(pino(options, ours.stream), 'admission decision');
    const reference = pino(options, theirs.stream);
    for (const fields of FIELD_SETS) {
      write(fields);
      reference.info(fields, 'admission decision');
    }
    await nextTurn();
    expect(ours.lines).toEqual([theirs.lines.join('')]);
  });

  it('uses the bindings of the logger it was given, and writes nothing below info', async () => {
    const out = capture();
    const logger = pino({ level: 'info', base: { app: 'backend-webhook' }, timestamp: FIXED_TIME }, out.stream);
    decisionLineWriter(logger.child({ replica: 'b' }), 'admission decision')({ uid: 'x' });
    await nextTurn();
    expect(JSON.parse(out.lines[0]!)).toEqual({ level: 30, time: '2026-11-27T05:00:00.000Z', app: 'backend-webhook', replica: 'b', uid: 'x', msg: 'admission decision' });
    logger.level = 'warn';
    decisionLineWriter(logger, 'admission decision')({ uid: 'y' });
    await nextTurn();
    expect(out.lines).toHaveLength(1);
  });
});

describe('cachedIsoTime', () => {
  it('renders the time as pino isoTime does', () => {
    const fragment = cachedIsoTime()();
    const m = /^,"time":"(.+)"$/.exec(fragment);
    expect(m).not.toBeNull();
    const t = Date.parse(m![1]!);
    expect(Math.abs(t - Date.now())).toBeLessThan(60_000);
    expect(new Date(t).toISOString()).toBe(m![1]);
  });
});
