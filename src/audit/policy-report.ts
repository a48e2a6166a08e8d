/**
 * Audit results as PolicyReports: `wgpolicyk8s.io/v1alpha2` PolicyReport (what Kyverno, Trivy and
 * Policy Reporter read) or `openreports.io/v1alpha1` Report, one per namespace, one result per object
 * and rule. Pure: objects in, report bodies out; the writer decides what to send.
 */
import type { ObjectResult } from '../offline/judge.js';

export type ReportFormat = 'wgpolicyk8s' | 'openreports';

export const REPORT_API: Record<ReportFormat, { group: string; version: string; plural: string; kind: string }> = {
  wgpolicyk8s: { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', kind: 'PolicyReport' },
  openreports: { group: 'openreports.io', version: 'v1alpha1', plural: 'reports', kind: 'Report' },
};

export const REPORT_NAME = 'backend-webhook';
export const REPORT_SOURCE = 'backend-webhook';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'backend-webhook' } as const;
/** Results kept per report; past it, the rest is summarised in one result (counts stay exact). */
export const MAX_RESULTS_PER_REPORT = 1000;
/** The name built-in rules go by in `policy` (platform policies go by namespace/name). */
export const BUILTIN_POLICY = 'backend-webhook/builtin';

export interface AuditedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly result: Pick<ObjectResult, 'outcome' | 'errors' | 'warnings'>;
}

export interface ReportResult {
  source: string;
  policy: string;
  rule: string;
  result: 'pass' | 'fail' | 'warn';
  severity?: 'high' | 'medium' | 'low' | 'info';
  message: string;
  scored: true;
  resources: Array<{ apiVersion: string; kind: string; name: string; namespace: string; uid?: string }>;
  properties?: Record<string, string>;
}

export interface ReportBody {
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results: ReportResult[];
}

// Platform-policy denials and warnings name their policy (`policy <ns>/<name> ...`).
const POLICY_REF = /\bpolicy ([a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*)/;

function policyOf(message: string): string {
  return POLICY_REF.exec(message)?.[1] ?? BUILTIN_POLICY;
}

/** Reports' content per namespace, results in a stable order (so "changed" means changed). */
export function reportBodies(objects: Iterable<AuditedObject>): Map<string, ReportBody> {
  const byNamespace = new Map<string, ReportResult[]>();
  for (const o of objects) {
    const resource = { apiVersion: o.apiVersion, kind: o.kind, name: o.name, namespace: o.namespace, ...(o.uid ? { uid: o.uid } : {}) };
    const results = byNamespace.get(o.namespace) ?? [];
    byNamespace.set(o.namespace, results);
    for (const e of o.result.errors) {
      const message = e.field ? `${e.field}: ${e.message}` : e.message;
      results.push({ source: REPORT_SOURCE, policy: policyOf(e.message), rule: e.field || e.reason, result: 'fail', severity: 'high', message, scored: true, resources: [resource], properties: { reason: e.reason } });
    }
    for (const w of o.result.warnings) {
      const rule = /^([\w.[\]/~-]+): /.exec(w.message)?.[1] ?? 'warning';
      results.push({ source: REPORT_SOURCE, policy: policyOf(w.message), rule, result: 'warn', severity: 'low', message: w.message, scored: true, resources: [resource] });
    }
    if (o.result.outcome === 'valid' && o.result.warnings.length === 0) {
      results.push({ source: REPORT_SOURCE, policy: BUILTIN_POLICY, rule: 'admission', result: 'pass', message: `${o.kind} would be admitted as written`, scored: true, resources: [resource] });
    }
  }
  const out = new Map<string, ReportBody>();
  for (const [namespace, results] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    results.sort(compareResults);
    const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
    for (const r of results) summary[r.result]++;
    out.set(namespace, { summary, results: bound(results) });
  }
  return out;
}

const RANK = { fail: 0, warn: 1, pass: 2 } as const;

function compareResults(a: ReportResult, b: ReportResult): number {
  const ra = a.resources[0]!;
  const rb = b.resources[0]!;
  return RANK[a.result] - RANK[b.result] || cmp(ra.kind, rb.kind) || cmp(ra.name, rb.name) || cmp(a.rule, b.rule) || cmp(a.message, b.message);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Failures first, so a truncated report still shows every failure it can. */
function bound(results: ReportResult[]): ReportResult[] {
  if (results.length <= MAX_RESULTS_PER_REPORT) return results;
  const kept = results.slice(0, MAX_RESULTS_PER_REPORT - 1);
  const rest = results.length - kept.length;
  const first = results[kept.length]!.resources[0]!;
  kept.push({
    source: REPORT_SOURCE,
    policy: BUILTIN_POLICY,
    rule: 'report-size',
    result: 'warn',
    severity: 'info',
    message: `and ${rest} more results not listed (the report keeps ${MAX_RESULTS_PER_REPORT}); summary counts all; run backend-webhook audit -n ${first.namespace} for the full list`,
    scored: true,
    resources: [first],
  });
  return kept;
}

/** The whole object to create or replace. */
export function reportObject(format: ReportFormat, namespace: string, body: ReportBody, resourceVersion?: string): Record<string, unknown> {
  const api = REPORT_API[format];
  return {
    apiVersion: `${api.group}/${api.version}`,
    kind: api.kind,
    metadata: { name: REPORT_NAME, namespace, labels: { ...MANAGED_BY }, ...(resourceVersion ? { resourceVersion } : {}) },
    ...(format === 'openreports' ? { source: REPORT_SOURCE } : {}),
    summary: body.summary,
    results: body.results,
  };
}
