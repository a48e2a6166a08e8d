import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Loaded 2-core CI machines: generous per-test time, no timing assertions.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/envtest/**'] },
      },
      {
        // Against a real etcd + kube-apiserver (KUBEBUILDER_ASSETS; see README). One control plane per
        // run, started by the global setup only when a file here is selected; the files share its
        // cluster-scoped objects (webhook configurations, CRDs), so they run one at a time.
        extends: true,
        test: {
          name: 'envtest',
          include: ['test/envtest/**/*.test.ts'],
          globalSetup: ['test/support/envtest-setup.ts'],
          maxWorkers: 1,
          // Each test drives several processes (kubectl, our server, the API server's calls to it).
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
