/**
 * An offline run end to end: read the inputs, split them into objects, register the schemas they
 * carry (and --schema-dir's), judge every object, and report. No network, no cluster.
 */
import type { ConfigMapReviewer } from '../admission/configmap-handler.js';
import type { ValidationOptions } from '../backend/options.js';
import { policyReviewerWith } from '../policies/default-extensions.js';
import type { SchemaLookup } from '../schemas/registry.js';
import { extensionSchemaReviewer } from '../schemas/configmap.js';
import { documentsFromText, type InputDocument } from './documents.js';
import { gvkOf, identityOf, judgeDocuments } from './judge.js';
import { isServedKind } from '../admission/filters.js';
import { ReferenceGrantIndex } from '../references/grants.js';
import { loadOfflinePolicies } from './policies.js';
import type { InputProblem } from './problems.js';
import { readInputs, type ReadInputsOptions } from './read-input.js';
import { buildReport, type OfflineReport } from './report.js';
import { isExtensionSchemaConfigMap, loadOfflineSchemas } from './schemas.js';

export interface OfflineRunConfig {
  /** Files, directories, or `-` for standard input. */
  readonly paths: readonly string[];
  /** Directories (or files) of extension-schema ConfigMaps, on top of those in the input. */
  readonly schemaDirs: readonly string[];
  /** Directories (or files) of platform-policy ConfigMaps, on top of those in the input. */
  readonly policyDirs?: readonly string[];
  readonly validation: ValidationOptions;
  readonly strict: boolean;
  readonly showDefaults: boolean;
  /** Files or directories of the objects as they are now (e.g. `kubectl get backends -A -o yaml`). */
  readonly against?: readonly string[];
}

/** The ConfigMap webhook's reviewers, as `serve` registers them, against the offline schemas. */
export function offlineConfigMapReviewers(schemas: SchemaLookup): readonly ConfigMapReviewer[] {
  return [extensionSchemaReviewer, policyReviewerWith(() => schemas)];
}

export async function runOfflineValidation(config: OfflineRunConfig, io: ReadInputsOptions = {}): Promise<OfflineReport> {
  const problems: InputProblem[] = [];
  const read = await readDocuments(config.paths, io, problems);
  const current = config.against?.length ? currentObjects((await readDocuments(config.against, {}, problems)).documents) : undefined;
  return judgeOfflineDocuments(read, problems, config, current);
}

/**
 * The judging half of a run, for documents from anywhere (files, or the cluster for `audit`):
 * schemas and policies the documents carry are registered first, then every object is judged.
 */
export async function judgeOfflineDocuments(
  read: { files: readonly string[]; documents: readonly InputDocument[] },
  problems: InputProblem[],
  config: Omit<OfflineRunConfig, 'paths' | 'against'>,
  current?: ReadonlyMap<string, Record<string, unknown>>,
): Promise<OfflineReport> {
  const { documents } = read;
  const schemas = await loadOfflineSchemas(documents.filter((d) => isExtensionSchemaConfigMap(d.object)), config.schemaDirs);
  problems.push(...schemas.problems);
  const policies = await loadOfflinePolicies(documents, config.policyDirs ?? []);
  problems.push(...policies.problems);

  // ReferenceGrants in the input are the only grants offline (there is no cluster to ask).
  const validation = { ...config.validation, referenceGrants: ReferenceGrantIndex.fromObjects(documents.map((d) => d.object)) };
  const results = judgeDocuments(documents, {
    handler: { schemas: schemas.lookup, options: validation, ...(policies.context ? { policies: policies.context } : {}) },
    configMapReviewers: offlineConfigMapReviewers(schemas.lookup),
    strict: config.strict,
    showDefaults: config.showDefaults,
    ...(current ? { current } : {}),
  });
  return buildReport(read.files, results, problems);
}

async function readDocuments(paths: readonly string[], io: ReadInputsOptions, problems: InputProblem[]): Promise<{ files: string[]; documents: InputDocument[] }> {
  const read = await readInputs(paths, io);
  problems.push(...read.problems);
  const documents: InputDocument[] = [];
  for (const file of read.files) {
    const parsed = documentsFromText(file.file, file.text);
    documents.push(...parsed.documents);
    problems.push(...parsed.problems);
  }
  return { files: read.files.map((f) => f.file), documents };
}

/** The served objects of `--against`, by identity; a later duplicate wins, as a later apply would. */
function currentObjects(documents: readonly InputDocument[]): Map<string, Record<string, unknown>> {
  const byIdentity = new Map<string, Record<string, unknown>>();
  for (const doc of documents) {
    if (!isServedKind(gvkOf(doc.object))) continue;
    const identity = identityOf(doc.object);
    if (identity !== undefined) byIdentity.set(identity, doc.object);
  }
  return byIdentity;
}
