/**
 * The platform policies an offline run applies: policy ConfigMaps found in the input plus those
 * under each `--policy-dir`, fed through the server's own policy registry (same parsing, same
 * checks, same precedence), snapshotted once for the run; and the namespace labels the input's
 * Namespace objects give (a Backend in a namespace not in the input has unknown labels).
 */
import pino from 'pino';
import type { PolicyContext } from '../policies/evaluate.js';
import { POLICY_LABEL } from '../policies/format.js';
import { StaticNamespaceLabels } from '../policies/namespaces.js';
import { PolicyRegistry } from '../policies/registry.js';
import type { InputDocument } from './documents.js';
import { InputConfigMapSource } from './input-source.js';
import { configMapEntries, hasTrueLabel, readLabelledConfigMapDirs } from './labelled-configmaps.js';
import type { InputProblem } from './problems.js';

export const isPolicyConfigMap = (object: Record<string, unknown>): boolean => hasTrueLabel(object, POLICY_LABEL);

export interface OfflinePolicies {
  /** Undefined when no policy is in force (the run then judges exactly as without policies). */
  readonly context?: Pick<PolicyContext, 'policies' | 'namespaces'>;
  /** `--policy-dir` contents that could not be used (exit code 2). */
  readonly problems: InputProblem[];
}

/**
 * A broken policy in the input is not a problem here: judging that ConfigMap reports it, against its
 * file. A broken one under --policy-dir is: the run lacks a policy it was told to apply.
 */
export async function loadOfflinePolicies(documents: readonly InputDocument[], policyDirs: readonly string[]): Promise<OfflinePolicies> {
  const fromDirs = await readLabelledConfigMapDirs(policyDirs, POLICY_LABEL, '--policy-dir', 'PolicyDirFailed');
  const fromInput = configMapEntries(documents.filter((d) => isPolicyConfigMap(d.object)));
  if (fromDirs.entries.length === 0 && fromInput.length === 0) return { problems: fromDirs.problems };

  const registry = new PolicyRegistry({ logger: pino({ level: 'silent' }) });
  await registry.start([new InputConfigMapSource(fromInput), new InputConfigMapSource(fromDirs.entries, 'policy-dir')]);
  const dirFiles = new Set(fromDirs.entries.map((e) => e.file));
  const problems = [...fromDirs.problems];
  for (const row of registry.report().policies) {
    if (row.error === undefined || row.source.path === undefined || !dirFiles.has(row.source.path)) continue;
    problems.push({ code: 'PolicyDirFailed', file: row.source.path, message: `--policy-dir: ConfigMap ${row.ref}: ${row.error}` });
  }
  await registry.stop();
  const policies = registry.snapshot();
  if (policies.size === 0) return { problems };
  return { context: { policies, namespaces: new StaticNamespaceLabels(documents.map((d) => d.object)) }, problems };
}
