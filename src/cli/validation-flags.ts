/**
 * The flags that shape what the judges accept, shared by every command that judges (serve,
 * validate, audit) so an offline or audit run can be told exactly what the server is told.
 */
import type { Command } from 'commander';
import { PUBLISHED_MCP_VERSIONS, type ValidationOptions } from '../backend/options.js';
import { DEFAULT_INTERNAL_DOMAINS } from '../backend/rules/data.js';
import { flag } from './option.js';
import { CROSS_NAMESPACE_REFS_MODES, type CrossNamespaceRefsMode } from '../references/grants.js';
import { parseChoice, parseCidr, parseDnsSubdomain, parseMcpVersion, repeatable } from './parsers.js';

export interface RawValidationFlags {
  clusterDomain: string;
  internalDomain?: string[];
  deniedCidr?: string[];
  mcpVersion?: string[];
  unknownExtensionPolicy: ValidationOptions['unknownExtensionPolicy'];
  crossNamespaceRefs: CrossNamespaceRefsMode;
}

export function addValidationFlags(command: Command): Command {
  return command
    .addOption(flag('--cluster-domain <domain>', 'cluster DNS domain; hostnames under it are refused as destinations').argParser(parseDnsSubdomain).default('cluster.local'))
    .addOption(flag('--internal-domain <domain>', 'cluster-internal name suffix refused as a destination besides --cluster-domain and svc (repeatable; replaces the default clusterset.local)').argParser(repeatable(parseDnsSubdomain)))
    .addOption(flag('--denied-cidr <cidr>', 'extra refused destination range (repeatable)').argParser(repeatable(parseCidr)))
    .addOption(flag('--mcp-version <date>', 'accepted MCP revision (repeatable; replaces the published list)').argParser(repeatable(parseMcpVersion)))
    .addOption(flag('--unknown-extension-policy <policy>', 'extension type without a schema: deny or warn').argParser(parseChoice(['deny', 'warn'] as const)).default('deny'))
    .addOption(
      flag('--cross-namespace-refs <mode>', 'Secret/ConfigMap references into other namespaces: deny, reference-grant (allowed by a Gateway API ReferenceGrant there; offline: in the input) or allow')
        .argParser(parseChoice(CROSS_NAMESPACE_REFS_MODES))
        .default('reference-grant'),
    );
}

export function validationOptionsOf(raw: RawValidationFlags): ValidationOptions {
  return {
    clusterDomain: raw.clusterDomain,
    internalDomains: raw.internalDomain ?? [...DEFAULT_INTERNAL_DOMAINS],
    extraDeniedCidrs: raw.deniedCidr ?? [],
    mcpVersions: raw.mcpVersion ?? PUBLISHED_MCP_VERSIONS,
    unknownExtensionPolicy: raw.unknownExtensionPolicy,
    crossNamespaceRefs: raw.crossNamespaceRefs,
  };
}
