/**
 * The monitoring kit as data, for the tests: the PrometheusRule's alerts, the dashboard's queries,
 * the metric names a PromQL expression reads, and the names a /metrics page exports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../manifests/manifest-loader.js';

export const MONITORING_DIR = join(REPO_ROOT, 'manifests/monitoring');
export const OPERATIONS_DOC = join(REPO_ROOT, 'docs/operations.md');

// Manifests and dashboards are free-form JSON trees; the tests assert their shape field by field.
export type Tree = Record<string, any>;

export interface AlertRule {
  group: string;
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function prometheusRule(): Tree {
  return parse(readFileSync(join(MONITORING_DIR, 'prometheusrule.yaml'), 'utf8')) as Tree;
}

/** The `groups` of the PrometheusRule, as a Prometheus rules file would hold them. */
export function ruleGroups(): Tree[] {
  return prometheusRule().spec.groups as Tree[];
}

export function alertRules(): AlertRule[] {
  return ruleGroups().flatMap((group) =>
    (group.rules as Tree[])
      .filter((rule) => typeof rule.alert === 'string')
      .map((rule) => ({ group: group.name as string, alert: rule.alert, expr: rule.expr, for: rule.for, labels: rule.labels ?? {}, annotations: rule.annotations ?? {} })),
  );
}

export function dashboard(): Tree {
  return JSON.parse(readFileSync(join(MONITORING_DIR, 'dashboard.json'), 'utf8')) as Tree;
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  /** As written in the dashboard, with Grafana variables. */
  expr: string;
}

/** Every query of every panel (rows' nested panels included). */
export function dashboardQueries(board: Tree = dashboard()): DashboardQuery[] {
  const panels = (board.panels as Tree[]).flatMap((p) => [p, ...((p.panels as Tree[] | undefined) ?? [])]);
  return panels.flatMap((panel) => ((panel.targets as Tree[] | undefined) ?? []).map((t) => ({ panel: panel.title as string, refId: t.refId as string, expr: t.expr as string })));
}

/**
 * A dashboard query as Prometheus sees it once Grafana has substituted its variables: interval
 * variables ($__rate_interval, $__interval, ...) become a duration, the others a match-all regex
 * (they only appear inside `=~"..."` matchers).
 */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$\{__\w+\}|\$__\w+/g, '5m').replace(/\$\{\w+(?::\w+)?\}|\$\w+/g, '.*');
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2', 'start', 'end']);

/**
 * Metric names a PromQL expression selects. A small lexer, enough for the expressions we write:
 * strings, label matchers, grouping clauses and range brackets are removed; of the identifiers
 * left, those followed by `(` are functions or aggregations and keywords are operators.
 */
export function metricNamesIn(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/#[^\n]*/g, ' ');
  const names = new Set<string>();
  const token = /(\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|[smhdwy])?)|([A-Za-z_:][\w:]*)(\s*\()?/g;
  for (const match of stripped.matchAll(token)) {
    const [, number, identifier, call] = match;
    if (number !== undefined || identifier === undefined || call !== undefined) continue;
    if (KEYWORDS.has(identifier.toLowerCase())) continue;
    names.add(identifier);
  }
  return names;
}

/**
 * Names a Prometheus scrape of this exposition yields: every `# TYPE` family, plus `_bucket`, `_sum`,
 * `_count` for histograms and `_sum`, `_count` for summaries, plus every sample's name.
 */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([A-Za-z_:][\w:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1] as string);
  }
  return names;
}

/**
 * Metrics the kit reads that the webhook does not export: kube-state-metrics. docs/operations.md
 * names each as a dependency (tested).
 */
export const EXTERNAL_METRICS: Readonly<Record<string, string>> = {
  kube_deployment_status_replicas_available: 'kube-state-metrics',
};

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Markdown sections of a document: heading text, level, and the body up to the next heading of the same or a higher level. */
export function markdownSections(markdown: string): Array<{ heading: string; level: number; anchor: string; body: string }> {
  const lines = markdown.split('\n');
  const sections: Array<{ heading: string; level: number; anchor: string; body: string }> = [];
  let inFence = false;
  const headings: Array<{ index: number; level: number; heading: string }> = [];
  lines.forEach((line, index) => {
    if (/^```/.test(line)) inFence = !inFence;
    const match = inFence ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (match) headings.push({ index, level: (match[1] as string).length, heading: (match[2] as string).trim() });
  });
  headings.forEach((h, i) => {
    const next = headings.slice(i + 1).find((n) => n.level <= h.level);
    sections.push({ heading: h.heading, level: h.level, anchor: headingAnchor(h.heading), body: lines.slice(h.index + 1, next?.index ?? lines.length).join('\n') });
  });
  return sections;
}
