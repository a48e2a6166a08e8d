/** Loads the deployment manifests (multi-document YAML) for the manifest tests. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MANIFEST_DIR = join(REPO_ROOT, 'manifests');

// Manifests are free-form JSON trees; the tests assert their shape field by field.
export type Manifest = Record<string, any>;

export interface LoadedManifest {
  file: string;
  doc: Manifest;
}

/** Every document of a YAML file; throws with the file name on any parse error or warning. */
export function readYamlDocuments(path: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'));
  const docs: Manifest[] = [];
  for (const document of documents) {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) {
      throw new Error(`${path}: ${problems.map((p) => p.message).join('; ')}`);
    }
    const value: unknown = document.toJS({ maxAliasCount: -1 });
    if (value !== null && value !== undefined) docs.push(value as Manifest);
  }
  return docs;
}

/** YAML files directly in a directory (not recursive), sorted. */
export function yamlFilesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** All Kubernetes objects of manifests/*.yaml, without the kustomization itself. */
export function loadManifests(dir: string = MANIFEST_DIR): LoadedManifest[] {
  const loaded: LoadedManifest[] = [];
  for (const file of yamlFilesIn(dir)) {
    if (file === 'kustomization.yaml') continue;
    for (const doc of readYamlDocuments(join(dir, file))) loaded.push({ file, doc });
  }
  return loaded;
}

export function readKustomization(dir: string = MANIFEST_DIR): Manifest {
  const docs = readYamlDocuments(join(dir, 'kustomization.yaml'));
  if (docs.length !== 1) throw new Error(`${dir}/kustomization.yaml: expected one document`);
  return docs[0] as Manifest;
}

/** The one object of a kind (and name, when given); throws when there is not exactly one. */
export function findOne(manifests: LoadedManifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter(
    (m) => m.doc.kind === kind && (name === undefined || m.doc.metadata?.name === name),
  );
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  }
  return (found[0] as LoadedManifest).doc;
}

export function findAll(manifests: LoadedManifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
}

export function repoFile(relative: string): string {
  return join(REPO_ROOT, relative);
}

export function repoFileExists(relative: string): boolean {
  return existsSync(repoFile(relative));
}

/** Kubernetes label-selector semantics (an absent or empty selector selects everything). */
export function selectorMatches(selector: Manifest | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>)) {
    if (labels[key] !== value) return false;
  }
  for (const expression of (selector.matchExpressions ?? []) as Manifest[]) {
    const key = expression.key as string;
    const values = (expression.values ?? []) as string[];
    const present = Object.prototype.hasOwnProperty.call(labels, key);
    const value = labels[key];
    switch (expression.operator) {
      case 'In':
        if (!present || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${String(expression.operator)}`);
    }
  }
  return true;
}
