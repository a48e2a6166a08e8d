/**
 * Labelled ConfigMaps (extension schemas, platform policies) as an offline run finds them: in its
 * input, or under a directory flag (`--schema-dir`, `--policy-dir`). One reader for both, so the two
 * registrations are read exactly alike, and exactly as `serve` reads them from files.
 */
import { configMapsFromText } from '../schemas/file-source.js';
import { documentsFromText, type InputDocument } from './documents.js';
import type { InputConfigMap } from './input-source.js';
import type { InputProblem } from './problems.js';
import { readInputs } from './read-input.js';

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const isConfigMap = (object: Record<string, unknown>): boolean => object.apiVersion === 'v1' && object.kind === 'ConfigMap';

/** A ConfigMap carrying `label: "true"` (the sources' selector). */
export function hasTrueLabel(object: Record<string, unknown>, label: string): boolean {
  if (!isConfigMap(object) || !isRecord(object.metadata)) return false;
  const labels = object.metadata.labels;
  return isRecord(labels) && labels[label] === 'true';
}

/** Registry-facing entries; each ConfigMap round-trips through the file source's reader (JSON is YAML). */
export function configMapEntries(docs: readonly InputDocument[]): InputConfigMap[] {
  return docs.flatMap((doc) => {
    const read = configMapsFromText(JSON.stringify(doc.object));
    const configMap = read.ok ? read.configMaps[0] : undefined;
    return configMap ? [{ configMap, file: doc.file, key: `${doc.file}#${doc.document}${doc.item === undefined ? '' : `.${doc.item}`}` }] : [];
  });
}

/** The labelled ConfigMaps under `dirs`, and what kept any of them out (reported against `flag`). */
export async function readLabelledConfigMapDirs(
  dirs: readonly string[],
  label: string,
  flag: '--schema-dir' | '--policy-dir',
  failCode: 'SchemaDirFailed' | 'PolicyDirFailed',
): Promise<{ entries: InputConfigMap[]; problems: InputProblem[] }> {
  if (dirs.length === 0) return { entries: [], problems: [] };
  const read = await readInputs(dirs.filter((d) => d !== '-'));
  const problems: InputProblem[] = read.problems.map((p) => ({ ...p, code: p.code === 'PathNotFound' ? 'PathNotFound' : failCode, message: `${flag}: ${p.message}` }));
  const docs: InputDocument[] = [];
  for (const file of read.files) {
    const parsed = documentsFromText(file.file, file.text);
    docs.push(...parsed.documents.filter((d) => hasTrueLabel(d.object, label)));
    problems.push(...parsed.problems.map((p) => ({ ...p, code: failCode, message: `${flag}: ${p.message}` })));
  }
  return { entries: configMapEntries(docs), problems };
}
