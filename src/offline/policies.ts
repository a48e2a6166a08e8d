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
import { configMapsFromText } from '../schemas/file-source.js';
import { documentsFromText, type InputDocument } from './documents.js';
import { InputConfigMapSource, type InputConfigMap } from './input-source.js';
import type { InputProblem } from './problems.js';
import { readInputs } from './read-input.js';
import { isConfigMap } from './schemas.js';

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function isPolicyConfigMap(object: Record<string, unknown>): boolean {
  if (!isConfigMap(object) || !isRecord(object.metadata)) return false;
  const labels = object.metadata.labels;
  return isRecord(labels) && labels[POLICY_LABEL] === 'true';
}

function entriesOf(docs: readonly InputDocument[]): InputConfigMap[] {
  return docs.flatMap((doc) => {
    // Through the file source's reader, so a ConfigMap reads exactly as from `serve --policy-dir`.
    const read = configMapsFromText(JSON.stringify(doc.object));
    const configMap = read.ok ? read.configMaps[0] : undefined;
    return configMap ? [{ configMap, file: doc.file, key: `${doc.file}#${doc.document}${doc.item === undefined ? '' : `.${doc.item}`}` }] : [];
  });
}

async function readPolicyDirs(dirs: readonly string[]): Promise<{ entries: InputConfigMap[]; problems: InputProblem[] }> {
  if (dirs.length === 0) return { entries: [], problems: [] };
  const read = await readInputs(dirs.filter((d) => d !== '-'));
  const problems: InputProblem[] = read.problems.map((p) => ({ ...p, code: p.code === 'PathNotFound' ? 'PathNotFound' : 'PolicyDirFailed', message: `--policy-dir: ${p.message}` }));
  const docs: InputDocument[] = [];
  for (const file of read.files) {
    const parsed = documentsFromText(file.file, file.text);
    docs.push(...parsed.documents.filter((d) => isPolicyConfigMap(d.object)));
    problems.push(...parsed.problems.map((p) => ({ ...p, code: 'PolicyDirFailed' as const, message: `--policy-dir: ${p.message}` })));
  }
  return { entries: entriesOf(docs), problems };
}

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
  const fromDirs = await readPolicyDirs(policyDirs);
  const fromInput = entriesOf(documents.filter((d) => isPolicyConfigMap(d.object)));
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
