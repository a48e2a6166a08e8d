import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { defaultExtensionSchemaDir } from '../../src/schemas/file-source.js';
import { KubeConfigMapSource } from '../../src/schemas/kube-source.js';
import { schemaSourcesFor, startSchemaRegistry } from '../../src/schemas/startup.js';

describe('startSchemaRegistry', () => {
  it('files: loads --schema-dir, is ready at once, trusts no namespace in particular, and stops', async () => {
    const registry = await startSchemaRegistry(
      { schemaSource: 'files', schemaDir: defaultExtensionSchemaDir(), trustedNamespaces: [] },
      pino({ level: 'silent' }),
      new Metrics(),
    );
    expect(registry.isReady()).toBe(true);
    expect(registry.snapshot().get('example.com/ToolFilter')).toBeDefined();
    expect(registry.isTrustedNamespace('anything')).toBe(true);
    await registry.stop();
  });

  it('kubernetes: builds one cluster source with the extension-schema selector', () => {
    const sources = schemaSourcesFor({ schemaSource: 'kubernetes', schemaDir: 'unused', trustedNamespaces: ['platform'], kubeconfig: '/tmp/kc' });
    expect(sources).toHaveLength(1);
    expect(sources[0]).toBeInstanceOf(KubeConfigMapSource);
    expect(sources[0]!.hasSynced()).toBe(false);
  });
});
