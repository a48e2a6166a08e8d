/**
 * The alerts, checked by Prometheus's own tool: `promtool check rules` on the PrometheusRule's groups,
 * and `promtool test rules` with alerts.promtool.yaml, where every alert has a series that fires it
 * and one that must not. Plus what promtool cannot check: every alert carries a summary, a
 * description with the likely cause, a severity, and a runbook_url to its section in
 * docs/operations.md, which says what to look at and what to do.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { describeWithTool, runTool } from '../support/external-tool.js';
import { OPERATIONS_DOC, alertRules, markdownSections, prometheusRule, ruleGroups, type Tree } from './monitoring-files.js';

const UNIT_TESTS = join(import.meta.dirname, 'alerts.promtool.yaml');
const alerts = alertRules();

describe('the PrometheusRule', () => {
  it('is a monitoring.coreos.com/v1 PrometheusRule with alerts in it', () => {
    const rule = prometheusRule();
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.kind).toBe('PrometheusRule');
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
  });

  it('covers what the issue asks for', () => {
    const names = alerts.map((a) => a.alert);
    for (const expected of [
      'BackendWebhookCertificateExpiringSoon',
      'BackendWebhookCertificateExpiringCritical',
      'BackendWebhookCertificateReloadFailing',
      'BackendWebhookAdmissionErrors',
      'BackendWebhookAdmissionLatencyHigh',
      'BackendWebhookRegistryStale',
      'BackendWebhookRegistryRejectedEntries',
      'BackendWebhookInternalErrors',
      'BackendWebhookNoReadyReplica',
      'BackendWebhookLogLinesDropped',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s has a severity, a summary, a description with the likely cause, and a runbook', (_name, alert) => {
    expect(['warning', 'critical']).toContain(alert.labels.severity);
    expect(alert.annotations.summary?.length).toBeGreaterThan(10);
    expect(alert.annotations.description).toMatch(/Likely cause/);
    expect(alert.annotations.runbook_url).toMatch(/^docs\/operations\.md#[a-z0-9-]+$/);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s: its annotations use only labels its expression keeps', (_name, alert) => {
    // An aggregation keeps only its `by (...)` labels; a template naming another renders empty.
    const groupings = [...alert.expr.matchAll(/\bby\s*\(([^)]*)\)/g)].map((m) => (m[1] as string).split(',').map((l) => l.trim()));
    const used = [...Object.values(alert.annotations).join(' ').matchAll(/\$labels\.(\w+)/g)].map((m) => m[1] as string);
    for (const grouping of groupings) for (const label of used) expect(grouping, `$labels.${label}`).toContain(label);
  });

  it('links every runbook_url to its own section of docs/operations.md, which says what to look at and what to do', () => {
    const sections = markdownSections(readFileSync(OPERATIONS_DOC, 'utf8'));
    for (const alert of alerts) {
      const anchor = (alert.annotations.runbook_url as string).split('#')[1];
      const section = sections.find((s) => s.anchor === anchor);
      expect(section, `${alert.alert}: no heading with anchor #${anchor} in docs/operations.md`).toBeDefined();
      expect(section!.heading).toBe(alert.alert);
      expect(section!.body, alert.alert).toMatch(/\*\*Look at\*\*/);
      expect(section!.body, alert.alert).toMatch(/\*\*Do\*\*/);
    }
  });
});

describe('alerts.promtool.yaml', () => {
  const unitTests = parse(readFileSync(UNIT_TESTS, 'utf8')) as Tree;
  const cases = (unitTests.tests as Tree[]).flatMap((t) => (t.alert_rule_test as Tree[] | undefined) ?? []);

  it.each(alerts.map((a) => [a.alert] as const))('%s: a case that fires it and one where it stays silent', (name) => {
    const mine = cases.filter((c) => c.alertname === name);
    expect(mine.some((c) => Array.isArray(c.exp_alerts) && c.exp_alerts.length > 0), `${name} never expected to fire`).toBe(true);
    expect(mine.some((c) => Array.isArray(c.exp_alerts) && c.exp_alerts.length === 0), `${name} never expected silent`).toBe(true);
  });

  it('tests only alerts that exist', () => {
    const names = new Set(alerts.map((a) => a.alert));
    for (const c of cases) expect(names, c.alertname).toContain(c.alertname);
  });
});

describeWithTool('promtool', 'promtool', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'promtool-rules-'));
    // The rules exactly as the PrometheusRule holds them, for `check rules`.
    writeFileSync(join(dir, 'prometheusrule-groups.yaml'), stringify({ groups: ruleGroups() }));
    // For `test rules`: the same groups without the long annotations (checked above), so each unit
    // test states labels and the rendered summary but not paragraphs of prose.
    const groups = ruleGroups().map((group) => ({
      ...group,
      rules: (group.rules as Tree[]).map((rule) => {
        const { description: _d, runbook_url: _r, ...annotations } = (rule.annotations ?? {}) as Record<string, string>;
        return { ...rule, annotations };
      }),
    }));
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }));
    copyFileSync(UNIT_TESTS, join(dir, 'alerts.promtool.yaml'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('check rules: the PrometheusRule groups are valid Prometheus rules', () => {
    const result = runTool('promtool', ['check', 'rules', join(dir, 'prometheusrule-groups.yaml')]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  it('test rules: every unit test in alerts.promtool.yaml passes', () => {
    const result = runTool('promtool', ['test', 'rules', 'alerts.promtool.yaml'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/SUCCESS/);
  });
});
