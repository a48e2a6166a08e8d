import { describe, expect, it } from 'vitest';
import { TurnBatcher } from '../../src/admission/batch.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnBatcher', () => {
  it('runs the jobs queued in one turn together, in order, after the turn', async () => {
    const flushes: number[] = [];
    const ran: number[] = [];
    const batcher = new TurnBatcher({ onFlush: (n) => flushes.push(n) });
    for (let i = 0; i < 5; i++) batcher.defer(() => ran.push(i));
    expect(ran).toEqual([]); // not before the turn ends
    await nextTurn();
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(flushes).toEqual([5]);
  });

  it('puts jobs queued while a batch runs into the next batch', async () => {
    const flushes: number[] = [];
    const ran: string[] = [];
    const batcher = new TurnBatcher({ onFlush: (n) => flushes.push(n) });
    batcher.defer(() => {
      ran.push('first');
      batcher.defer(() => ran.push('queued by first'));
    });
    batcher.defer(() => ran.push('second'));
    await nextTurn();
    expect(ran).toEqual(['first', 'second']);
    await nextTurn();
    expect(ran).toEqual(['first', 'second', 'queued by first']);
    expect(flushes).toEqual([2, 1]);
  });

  it('runs the other jobs when one throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const ran: number[] = [];
    const batcher = new TurnBatcher({ onError: (err) => errors.push(err) });
    batcher.defer(() => ran.push(1));
    batcher.defer(() => {
      throw new Error('boom');
    });
    batcher.defer(() => ran.push(3));
    await nextTurn();
    expect(ran).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('runs requests from separate turns in separate batches', async () => {
    const flushes: number[] = [];
    const batcher = new TurnBatcher({ onFlush: (n) => flushes.push(n) });
    batcher.defer(() => {});
    await nextTurn();
    batcher.defer(() => {});
    batcher.defer(() => {});
    await nextTurn();
    expect(flushes).toEqual([1, 2]);
  });
});
