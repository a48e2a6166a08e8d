/**
 * The Grafana dashboard: valid JSON with the panels the issue lists, every query valid PromQL
 * (promtool checks them as recording rules). The metrics they read are checked against a running
 * server in exported-metrics.test.ts; the ConfigMap kustomize generates from it in test/manifests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { describeWithTool, runTool } from '../support/external-tool.js';
import { dashboard, dashboardQueries, metricNamesIn, substituteGrafanaVariables, type Tree } from './monitoring-files.js';

const board = dashboard();
const queries = dashboardQueries(board);
const panelTitles = (board.panels as Tree[]).map((p) => p.title as string);

describe('dashboard.json', () => {
  it('is a dashboard with a stable uid, a data-source variable, and queries in every graph panel', () => {
    expect(board.uid).toBe('backend-webhook');
    expect(board.templating.list.map((v: Tree) => v.name)).toEqual(expect.arrayContaining(['datasource', 'namespace', 'job']));
    for (const panel of board.panels as Tree[]) {
      if (panel.type === 'row' || panel.type === 'text') continue;
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
    }
    expect(new Set((board.panels as Tree[]).map((p) => p.id)).size).toBe(board.panels.length);
  });

  it('has the panels the issue lists', () => {
    for (const title of [
      /requests by result/i,
      /latency percentiles/i,
      /denials/i,
      /policy decisions/i,
      /warnings/i,
      /schemas in force/i,
      /rejected configmaps/i,
      /watch failing/i,
      /certificate expires/i,
      /audit violations/i,
      /^memory$/i,
      /^cpu$/i,
    ]) {
      expect(panelTitles.some((t) => title.test(t)), String(title)).toBe(true);
    }
    expect(queries.some((q) => /audit violations/i.test(q.panel) && q.expr.includes('backend_webhook_audit_violations'))).toBe(true);
  });

  it('scopes every query to the selected namespace and job', () => {
    for (const q of queries) {
      for (const name of metricNamesIn(q.expr)) {
        // Each selector of a metric carries both matchers; the audit's violations carry the audited
        // objects' namespace in `namespace` (it wins over the target's: honorLabels), so job only.
        const selectors = q.expr.match(new RegExp(`\\b${name}\\{[^}]*\\}`, 'g')) ?? [];
        expect(selectors.length, `${q.panel}: ${name}`).toBeGreaterThan(0);
        const scope = name === 'backend_webhook_audit_violations' ? /^[^{]*\{job=~"\$job"\}$/ : /namespace=~"\$namespace", job=~"\$job"/;
        for (const s of selectors) expect(s, q.panel).toMatch(scope);
      }
    }
  });

  it('plots p50, p90 and p99 from the latency histogram', () => {
    const latency = queries.filter((q) => /latency percentiles/i.test(q.panel)).map((q) => q.expr);
    for (const quantile of ['0.5', '0.9', '0.99']) {
      expect(latency.some((e) => e.startsWith(`histogram_quantile(${quantile},`) && e.includes('backend_webhook_admission_duration_seconds_bucket'))).toBe(true);
    }
  });
});

describeWithTool('promtool', 'dashboard queries, checked by promtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'promtool-dashboard-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every panel query is valid PromQL once Grafana has substituted its variables', () => {
    // One recording rule per query: `promtool check rules` parses each expression.
    const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}:${q.refId}`, expr: substituteGrafanaVariables(q.expr) }));
    const file = join(dir, 'dashboard-queries.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const result = runTool('promtool', ['check', 'rules', file]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('a broken query would be caught (the check is not vacuous)', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: [{ record: 'dashboard:broken', expr: substituteGrafanaVariables('sum by (result) (rate(backend_webhook_admission_requests_total{job=~"$job"}[$__rate_interval])') }] }] }));
    expect(runTool('promtool', ['check', 'rules', file]).code).not.toBe(0);
  });
});
