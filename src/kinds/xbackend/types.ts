/** Gateway API XBackend (gateway.networking.x-k8s.io/v1alpha1, GEP-4894): names the rules share. */
export const XBACKEND_GROUP = 'gateway.networking.x-k8s.io';
export const XBACKEND_VERSION = 'v1alpha1';
export const XBACKEND_KIND = 'XBackend';
export const XBACKEND_RESOURCE = 'xbackends';

export const EXTERNAL_HOSTNAME = 'ExternalHostname';
export const XBACKEND_TLS_MODES = ['None', 'ServerOnly', 'ClientAndServer'] as const;

/** XBackend's TLS modes in the Backend's (and platform policies') words. */
export const TLS_MODE_AS_BACKEND: Readonly<Record<string, string>> = { None: 'None', ServerOnly: 'Simple', ClientAndServer: 'Mutual' };

/** The upstream CRD's own hostname rule: always, whatever --cluster-domain says. */
export const UPSTREAM_CLUSTER_DOMAIN = 'cluster.local';
