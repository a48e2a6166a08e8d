/**
 * `audit`, one shot: read what the cluster stores and judge every object as a CREATE of itself
 * (what would be refused if written today: ratcheting tolerates such objects on UPDATE, which is why
 * they are still there). Same pipeline as `validate`, so the same verdicts and the same report.
 */
import type { ValidationOptions } from '../backend/options.js';
import { all } from '../kinds/registry.js';
import { judgeOfflineDocuments } from '../offline/run.js';
import { buildReport, type OfflineReport } from '../offline/report.js';
import type { InputProblem } from '../offline/problems.js';
import { readCluster, type AuditedResource, type ClusterReadOptions } from './cluster.js';

/** The served kinds' resources (src/kinds/registry.ts, first version of each): what the webhook judges, so what is audited. */
export const AUDITED_RESOURCES: readonly AuditedResource[] = all().flatMap((unit) =>
  unit.kinds.map(({ kind, resource }) => ({ group: unit.group, version: unit.versions[0]!, plural: resource, kind })),
);

export interface AuditConfig extends Omit<ClusterReadOptions, 'resources'> {
  readonly validation: ValidationOptions;
  readonly resources?: readonly AuditedResource[];
}

export interface AuditReport extends OfflineReport {
  /** Resources whose CRD is not installed (nothing stored, nothing judged). */
  readonly absent: readonly string[];
}

export async function runAudit(config: AuditConfig): Promise<AuditReport> {
  const snapshot = await readCluster({ ...config, resources: config.resources ?? AUDITED_RESOURCES });
  const problems: InputProblem[] = [];
  const judged = await judgeOfflineDocuments({ files: [snapshot.server], documents: snapshot.documents }, problems, {
    schemaDirs: [],
    policyDirs: [],
    validation: config.validation,
    strict: false,
    showDefaults: false,
  });
  // Namespaces and ReferenceGrants are context, not subjects: leave them out of the report.
  const results = judged.results.filter((r) => r.outcome !== 'skipped');
  return { ...buildReport(judged.files, results, judged.problems), absent: snapshot.absent };
}
