/**
 * The extension schemas an offline run judges with: labelled ConfigMaps found in the input plus
 * those under each `--schema-dir`, fed through the server's own registry (same parsing, same
 * compile limits, same precedence between two claims on one type), snapshotted once for the run.
 */
import pino from 'pino';
import { EXTENSION_SCHEMA_LABEL } from '../schemas/configmap.js';
import { ExtensionSchemaRegistry } from '../schemas/extension-registry.js';
import { configMapsFromText } from '../schemas/file-source.js';
import { EMPTY_LOOKUP, type SchemaLookup } from '../schemas/registry.js';
import type { ConfigMapObject } from '../schemas/source.js';
import { documentsFromText, type InputDocument } from './documents.js';
import { InputConfigMapSource, type InputConfigMap } from './input-source.js';
import type { InputProblem } from './problems.js';
import { readInputs } from './read-input.js';

export interface OfflineSchemas {
  readonly lookup: SchemaLookup;
  /** `--schema-dir` contents that could not be used (exit code 2: the run lacks schemas it was given). */
  readonly problems: InputProblem[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const isConfigMap = (object: Record<string, unknown>): boolean => object.apiVersion === 'v1' && object.kind === 'ConfigMap';

/** A ConfigMap carrying the extension-schema label with value "true" (the sources' selector). */
export function isExtensionSchemaConfigMap(object: Record<string, unknown>): boolean {
  if (!isConfigMap(object) || !isRecord(object.metadata)) return false;
  const labels = object.metadata.labels;
  return isRecord(labels) && labels[EXTENSION_SCHEMA_LABEL] === 'true';
}

/**
 * The registry-facing form of a ConfigMap object. Round-trips through the file source's reader
 * (JSON is YAML) so a ConfigMap reads exactly as it would from `serve --schema-dir`.
 */
function toConfigMapObject(object: Record<string, unknown>): ConfigMapObject | undefined {
  const read = configMapsFromText(JSON.stringify(object));
  return read.ok ? read.configMaps[0] : undefined;
}

function entriesOf(docs: readonly InputDocument[]): InputConfigMap[] {
  const out: InputConfigMap[] = [];
  for (const doc of docs) {
    const configMap = toConfigMapObject(doc.object);
    if (configMap) out.push({ configMap, file: doc.file, key: `${doc.file}#${doc.document}${doc.item === undefined ? '' : `.${doc.item}`}` });
  }
  return out;
}

/** Labelled ConfigMaps under the schema directories, and what kept any of them out. */
async function readSchemaDirs(dirs: readonly string[]): Promise<{ entries: InputConfigMap[]; problems: InputProblem[] }> {
  if (dirs.length === 0) return { entries: [], problems: [] };
  const read = await readInputs(dirs.filter((d) => d !== '-'));
  const problems: InputProblem[] = read.problems.map((p) => ({ ...p, code: p.code === 'PathNotFound' ? 'PathNotFound' : 'SchemaDirFailed', message: `--schema-dir: ${p.message}` }));
  const docs: InputDocument[] = [];
  for (const file of read.files) {
    const parsed = documentsFromText(file.file, file.text);
    docs.push(...parsed.documents.filter((d) => isExtensionSchemaConfigMap(d.object)));
    problems.push(...parsed.problems.map((p) => ({ ...p, code: 'SchemaDirFailed' as const, message: `--schema-dir: ${p.message}` })));
  }
  return { entries: entriesOf(docs), problems };
}

/**
 * Registers the input's schema ConfigMaps and the schema directories' ones. A schema in the input
 * that does not compile is not a problem here: judging that ConfigMap reports it, against its file.
 */
export async function loadOfflineSchemas(inputSchemaConfigMaps: readonly InputDocument[], schemaDirs: readonly string[]): Promise<OfflineSchemas> {
  const fromDirs = await readSchemaDirs(schemaDirs);
  const fromInput = entriesOf(inputSchemaConfigMaps);
  if (fromDirs.entries.length === 0 && fromInput.length === 0) return { lookup: EMPTY_LOOKUP, problems: fromDirs.problems };

  // Silent: whatever the registry would log is reported below or by judging the ConfigMaps.
  const registry = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }) });
  await registry.start([new InputConfigMapSource(fromInput), new InputConfigMapSource(fromDirs.entries, 'schema-dir')]);

  const dirFiles = new Set(fromDirs.entries.map((e) => e.file));
  const problems = [...fromDirs.problems];
  for (const row of registry.list()) {
    if (row.compiled || row.source.path === undefined || !dirFiles.has(row.source.path)) continue;
    problems.push({ code: 'SchemaDirFailed', file: row.source.path, message: `--schema-dir: ConfigMap ${row.source.namespace ? `${row.source.namespace}/` : ''}${row.source.name}: ${row.error ?? 'schema rejected'}` });
  }
  await registry.stop();
  return { lookup: registry.snapshot(), problems };
}
