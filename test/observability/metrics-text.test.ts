/** The exposition reader the metric assertions use (test/support/metrics-text.ts). */
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { metricSum, metricValue, parseExposition } from '../support/metrics-text.js';

const TEXT = [
  '# HELP x_total things',
  '# TYPE x_total counter',
  'x_total{a="1",b="q\\"uote"} 10',
  'x_total{a="2",b="back\\\\slash"} 1',
  'y 2.5e-3 1700000000000',
  'z_bucket{le="+Inf"} 3',
  'nan NaN',
  'nan2 Nan',
  '',
].join('\n');

describe('metrics-text', () => {
  it('reads names, escaped labels and values', () => {
    expect(parseExposition(TEXT)).toEqual([
      { name: 'x_total', labels: { a: '1', b: 'q"uote' }, value: 10 },
      { name: 'x_total', labels: { a: '2', b: 'back\\slash' }, value: 1 },
      { name: 'y', labels: {}, value: 0.0025 },
      { name: 'z_bucket', labels: { le: '+Inf' }, value: 3 },
      { name: 'nan', labels: {}, value: NaN },
      { name: 'nan2', labels: {}, value: NaN },
    ]);
  });

  it('compares the number: 10 is not 1', () => {
    expect(metricValue(TEXT, 'x_total', { a: '1' })).toBe(10);
    expect(metricValue(TEXT, 'x_total', { a: '2' })).toBe(1);
    expect(metricValue(TEXT, 'x_total', { a: '3' })).toBeUndefined();
    expect(() => metricValue(TEXT, 'x_total')).toThrow(/2 series/);
    expect(metricSum(TEXT, 'x_total')).toBe(11);
  });

  it('refuses lines that are not exposition', () => {
    expect(() => parseExposition('x_total{a=1} 1')).toThrow(/malformed labels/);
    expect(() => parseExposition('just words here')).toThrow(/not an exposition line/);
  });

  it('reads everything our registry exposes', async () => {
    const metrics = new Metrics();
    metrics.badRequests.inc({ reason: 'BAD_JSON' });
    const samples = parseExposition(await metrics.registry.metrics());
    expect(samples.length).toBeGreaterThan(5);
    expect(metricValue(await metrics.registry.metrics(), 'backend_webhook_bad_requests_total', { reason: 'BAD_JSON' })).toBe(1);
  });
});
