import { DEFAULT_INTERNAL_DOMAINS } from './rules/data.js';
import type { CrossNamespaceRefsMode, ReferenceGrantLookup } from '../references/grants.js';

/** Server-wide settings that shape validation; all come from flags, so a change needs no release. */
export interface ValidationOptions {
  /** Cluster DNS domain; `*.<clusterDomain>` hostnames are cluster-internal and refused. */
  clusterDomain: string;
  /**
   * Further cluster-internal name suffixes (default `clusterset.local`, the multi-cluster Services
   * domain): hostnames under them are refused like `*.<clusterDomain>`.
   */
  internalDomains?: string[];
  /** Extra refused destination ranges in CIDR notation, on top of the built-in ones. */
  extraDeniedCidrs: string[];
  /** Published MCP revisions accepted in protocolOptions.mcp.version. */
  mcpVersions: string[];
  /** What to do with an extension type that has no registered schema. */
  unknownExtensionPolicy: 'deny' | 'warn';
  /** References to Secrets/ConfigMaps in other namespaces: never, with a ReferenceGrant, or always. */
  crossNamespaceRefs?: CrossNamespaceRefsMode;
  /**
   * The ReferenceGrants in force (a live lookup in the cluster, the input's offline); absent: none.
   * Judging only asks it (no I/O), so validation stays a pure function of its inputs.
   */
  referenceGrants?: ReferenceGrantLookup;
}

export const PUBLISHED_MCP_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'];

export const DEFAULT_VALIDATION_OPTIONS: ValidationOptions = Object.freeze({
  clusterDomain: 'cluster.local',
  internalDomains: [...DEFAULT_INTERNAL_DOMAINS],
  extraDeniedCidrs: [],
  mcpVersions: PUBLISHED_MCP_VERSIONS,
  unknownExtensionPolicy: 'deny',
  crossNamespaceRefs: 'reference-grant',
}) as ValidationOptions;
