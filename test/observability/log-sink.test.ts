/**
 * LogSink in front of an output that stops taking data: what it holds is bounded, every line it
 * cannot keep is counted, lines flow again once the output takes data, and nothing throws.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogSink } from '../../src/observability/log-sink.js';

/** A Writable that accepts its first write and then holds every callback until `resume()`. */
function stallingOutput(): { out: Writable; written: () => string; resume: () => void; fail: (err: Error) => void } {
  let data = '';
  let stalled = true;
  const held: Array<() => void> = [];
  const out = new Writable({
    decodeStrings: false,
    write(chunk: string, _enc, cb) {
      data += chunk;
      if (stalled) held.push(cb);
      else cb();
    },
  });
  return {
    out,
    written: () => data,
    resume: () => {
      stalled = false;
      for (const cb of held.splice(0)) cb();
    },
    fail: (err) => out.destroy(err),
  };
}

const line = (i: number): string => `{"level":30,"i":${i},"pad":"${'x'.repeat(80)}"}\n`;
const linesIn = (text: string): number[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l).i);

describe('LogSink', () => {
  it('batches lines and writes them once the batch is full or on flush', () => {
    const { out, written, resume } = stallingOutput();
    resume();
    const sink = new LogSink(out, { batchBytes: 1000, maxBufferedBytes: 100_000, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) sink.write(line(i));
    expect(written()).toBe('');
    for (let i = 5; i < 12; i++) sink.write(line(i));
    expect(linesIn(written()).length).toBeGreaterThan(0);
    sink.flush();
    expect(linesIn(written())).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(sink.droppedLines).toBe(0);
  });

  it('holds at most maxBufferedBytes while the output is stalled, drops and counts the rest, then flows again', () => {
    const { out, written, resume } = stallingOutput();
    const max = 4096;
    const sink = new LogSink(out, { batchBytes: 512, maxBufferedBytes: max, flushIntervalMs: 60_000 });
    const N = 500;
    for (let i = 0; i < N; i++) {
      sink.write(line(i));
      expect(sink.bufferedBytes).toBeLessThanOrEqual(max);
    }
    sink.flush();
    expect(sink.droppedLines).toBeGreaterThan(N / 2);
    resume();
    // Every line was either handed to the output (written now it flows) or counted as dropped.
    const kept = linesIn(written());
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length + sink.droppedLines).toBe(N);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));

    const droppedBefore = sink.droppedLines;
    sink.write(line(N));
    sink.flush();
    expect(sink.droppedLines).toBe(droppedBefore);
    expect(linesIn(written()).at(-1)).toBe(N);
    expect(sink.droppedLines).toBe(droppedBefore);
  });

  it('counts every line of a dropped multi-line chunk', () => {
    const { out } = stallingOutput();
    const sink = new LogSink(out, { batchBytes: 100, maxBufferedBytes: 1024, flushIntervalMs: 60_000 });
    sink.write('x'.repeat(1000) + '\n'); // handed to the output, which holds it
    sink.write(line(1) + line(2) + line(3));
    expect(sink.droppedLines).toBe(3);
  });

  it('survives an output that fails (EPIPE): no throw, later lines counted as dropped', () => {
    const { out, fail } = stallingOutput();
    const sink = new LogSink(out, { batchBytes: 10, maxBufferedBytes: 100_000, flushIntervalMs: 60_000 });
    out.on('error', () => {}); // the test's own listener; the sink has its own
    fail(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(() => {
      sink.write(line(1));
      sink.write(line(2));
      sink.flush();
    }).not.toThrow();
    expect(sink.droppedLines).toBe(2);
  });

  it('drain() resolves once the output has written everything, or at the deadline when it never does', async () => {
    const stalled = stallingOutput();
    const sink = new LogSink(stalled.out, { batchBytes: 100_000, maxBufferedBytes: 100_000, flushIntervalMs: 60_000 });
    sink.write(line(1));
    let settled = false;
    const started = Date.now();
    await sink.drain(300).then(() => (settled = true));
    expect(settled).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(linesIn(stalled.written())).toEqual([1]);

    const flowing = stallingOutput();
    const sink2 = new LogSink(flowing.out, { batchBytes: 100_000, maxBufferedBytes: 100_000, flushIntervalMs: 60_000 });
    sink2.write(line(2));
    const drained = sink2.drain(60_000);
    setTimeout(flowing.resume, 50);
    await drained; // would take a minute if it ignored the output's progress
    expect(flowing.out.writableLength).toBe(0);
  });
});
