import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../../src/observability/fast-histogram.js';
import { Metrics } from '../../src/observability/metrics.js';
import { metricValue } from '../support/metrics-text.js';

describe('FastHistogram', () => {
  it('is exposed exactly as a prom-client Histogram with the same observations', async () => {
    const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
    const oursRegistry = new Registry();
    const theirsRegistry = new Registry();
    const ours = new FastHistogram('x_seconds', 'Help text.', 'endpoint', buckets, oursRegistry);
    const theirs = new Histogram({ name: 'x_seconds', help: 'Help text.', labelNames: ['endpoint'], buckets, registers: [theirsRegistry] });
    // Values on bucket bounds, between them, above all of them, and zero.
    const values = [0, 0.0005, 0.0007, 0.001, 0.003, 0.01, 0.2, 1, 1.5, 30, 0.00049];
    for (const [i, v] of values.entries()) {
      const endpoint = i % 3 === 0 ? 'mutate' : 'validate';
      ours.labels(endpoint).observe(v);
      theirs.labels(endpoint).observe(v);
    }
    expect(await oursRegistry.metrics()).toBe(await theirsRegistry.metrics());
    ours.reset();
    theirs.reset();
    expect(await oursRegistry.metrics()).toBe(await theirsRegistry.metrics());
  });
});

describe('Metrics.admissionRequestTally', () => {
  it('shows plain increments at the next scrape, once', async () => {
    const metrics = new Metrics();
    const allowed = metrics.admissionRequestTally('validate', 'Backend', 'CREATE', 'allowed');
    const denied = metrics.admissionRequestTally('validate', 'Backend', 'UPDATE', 'denied');
    expect(metrics.admissionRequestTally('validate', 'Backend', 'CREATE', 'allowed')).toBe(allowed);
    allowed.count += 3;
    denied.count += 1;
    const read = async (): Promise<string> => metrics.registry.getSingleMetricAsString('backend_webhook_admission_requests_total');
    let text = await read();
    const requests = (labels: Record<string, string>) => metricValue(text, 'backend_webhook_admission_requests_total', { endpoint: 'validate', kind: 'Backend', ...labels });
    expect(requests({ operation: 'CREATE', result: 'allowed' })).toBe(3);
    expect(requests({ operation: 'UPDATE', result: 'denied' })).toBe(1);
    // A second scrape does not count again; later increments add up.
    expect(await read()).toBe(text);
    allowed.count += 2;
    text = await read();
    expect(requests({ result: 'allowed' })).toBe(5);
    expect(requests({ result: 'denied' })).toBe(1);
  });
});

describe('backend_webhook_admission_duration_seconds', () => {
  it('has buckets above 1 s up to the 5 s webhook timeout, so a p99 over 1 s is a real quantile', async () => {
    const metrics = new Metrics();
    metrics.admissionDuration.labels('validate').observe(2);
    const text = await metrics.registry.getSingleMetricAsString('backend_webhook_admission_duration_seconds');
    const bucket = (le: string) => metricValue(text, 'backend_webhook_admission_duration_seconds_bucket', { le, endpoint: 'validate' });
    expect(bucket('1')).toBe(0);
    expect(bucket('2.5')).toBe(1);
    expect(bucket('5')).toBe(1);
  });
});
