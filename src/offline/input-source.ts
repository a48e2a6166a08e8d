/**
 * A ConfigMapSource over ConfigMaps found in the CLI's own input. They are trusted whatever their
 * namespace: the user handed them over with the objects to check, so a repository that carries its
 * extension schemas validates on its own.
 */
import type { ConfigMapObject, ConfigMapSource, ConfigMapSourceHandler } from '../schemas/source.js';

export interface InputConfigMap {
  readonly configMap: ConfigMapObject;
  /** The file it came from (origin path in the registry's list). */
  readonly file: string;
  /** Unique within the input, e.g. `file#document`. */
  readonly key: string;
}

export class InputConfigMapSource implements ConfigMapSource {
  private synced = false;

  constructor(
    private readonly entries: readonly InputConfigMap[],
    readonly id = 'input',
  ) {}

  async start(handler: ConfigMapSourceHandler): Promise<void> {
    for (const { configMap, file, key } of this.entries) {
      handler({ type: 'added', key, configMap, origin: { kind: 'file', path: file, trusted: true } });
    }
    this.synced = true;
    handler({ type: 'synced' });
  }

  async stop(): Promise<void> {}

  hasSynced(): boolean {
    return this.synced;
  }
}
