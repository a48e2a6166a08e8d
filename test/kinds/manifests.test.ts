/**
 * The webhook configurations in manifests/ agree with the kinds registry: every served kind has
 * one webhook per endpoint that serves it, with exactly the registry's rule (group, versions,
 * resources, operations, scope), and the same safety settings as the Backend webhooks. A kind
 * added to src/kinds/ without a manifest entry (or the reverse) fails here.
 */
import { describe, expect, it } from 'vitest';
import { webhookRules } from '../../src/kinds/registry.js';
import type { Endpoint } from '../../src/kinds/unit.js';
import { findOne, loadManifests, type Manifest } from '../manifests/manifest-loader.js';

const manifests = loadManifests();
const configs: Record<Endpoint, Manifest> = {
  validate: findOne(manifests, 'ValidatingWebhookConfiguration', 'backend-webhook'),
  mutate: findOne(manifests, 'MutatingWebhookConfiguration', 'backend-webhook'),
};

describe('webhook configurations match the kinds registry', () => {
  for (const endpoint of ['validate', 'mutate'] as const) {
    const served = (configs[endpoint].webhooks as Manifest[]).filter((w) => w.clientConfig.service.path === `/${endpoint}`);

    it(`/${endpoint}: one webhook per served kind, with the registry's rule`, () => {
      const expected = webhookRules(endpoint).map(({ rule }) => rule);
      expect(served.map((w) => w.rules)).toEqual(expected.map((rule) => [rule]));
    });

    it(`/${endpoint}: each fails closed, answers fast, and leaves kube-system and our namespace alone`, () => {
      expect(served.length).toBeGreaterThan(1);
      for (const w of served) {
        expect(w, w.name).toMatchObject({ failurePolicy: 'Fail', sideEffects: 'None', matchPolicy: 'Equivalent', timeoutSeconds: 5, admissionReviewVersions: ['v1', 'v1beta1'] });
        expect(w.name).toBe(`${w.rules[0].resources[0]}.${endpoint === 'validate' ? 'validation' : 'defaulting'}.ainetworking.prototype.x-k8s.io`);
        expect(w.namespaceSelector.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'backend-webhook-system'] }]);
        if (endpoint === 'mutate') expect(w.reinvocationPolicy).toBe('IfNeeded');
      }
    });
  }
});
