/**
 * The extension schemas an offline run judges with: labelled ConfigMaps found in the input plus
 * those under each `--schema-dir`, fed through the server's own registry (same parsing, same
 * compile limits, same precedence between two claims on one type), snapshotted once for the run.
 */
import pino from 'pino';
import { EXTENSION_SCHEMA_LABEL } from '../schemas/configmap.js';
import { ExtensionSchemaRegistry } from '../schemas/extension-registry.js';
import { EMPTY_LOOKUP, type SchemaLookup } from '../schemas/registry.js';
import type { InputDocument } from './documents.js';
import { InputConfigMapSource } from './input-source.js';
import { configMapEntries, hasTrueLabel, readLabelledConfigMapDirs } from './labelled-configmaps.js';
import type { InputProblem } from './problems.js';

export interface OfflineSchemas {
  readonly lookup: SchemaLookup;
  /** `--schema-dir` contents that could not be used (exit code 2: the run lacks schemas it was given). */
  readonly problems: InputProblem[];
}

/** A ConfigMap carrying the extension-schema label with value "true" (the sources' selector). */
export const isExtensionSchemaConfigMap = (object: Record<string, unknown>): boolean => hasTrueLabel(object, EXTENSION_SCHEMA_LABEL);

/**
 * Registers the input's schema ConfigMaps and the schema directories' ones. A schema in the input
 * that does not compile is not a problem here: judging that ConfigMap reports it, against its file.
 */
export async function loadOfflineSchemas(inputSchemaConfigMaps: readonly InputDocument[], schemaDirs: readonly string[]): Promise<OfflineSchemas> {
  const fromDirs = await readLabelledConfigMapDirs(schemaDirs, EXTENSION_SCHEMA_LABEL, '--schema-dir', 'SchemaDirFailed');
  const fromInput = configMapEntries(inputSchemaConfigMaps);
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
