/**
 * `backend-webhook audit`: judges what the cluster already stores with the webhook's own rules.
 * Exit codes: 0 clean, 1 a stored object breaks the rules, 2 usage or cluster error.
 */
import { Command } from 'commander';
import type { OutputFormat } from '../offline/render.js';
import { flag } from './option.js';
import { parseChoice, parseDnsLabel, repeatable } from './parsers.js';
import { addValidationFlags, validationOptionsOf, type RawValidationFlags } from './validation-flags.js';

interface RawAuditOptions extends RawValidationFlags {
  output: OutputFormat;
  kubeconfig?: string;
  namespace?: string;
  selector?: string;
  trustedNamespace?: string[];
}

const FORMATS = ['text', 'json', 'github'] as const;
export const DEFAULT_TRUSTED_NAMESPACE = 'backend-webhook-system';

export function auditCommand(): Command {
  const command = new Command('audit')
    .description('Judge the Backends the cluster already stores with the webhook\'s rules (as if written today)')
    .addOption(flag('-o, --output <format>', 'text, json, or github (GitHub Actions annotations)').argParser(parseChoice(FORMATS)).default('text'))
    .addOption(flag('--kubeconfig <file>', 'cluster access (default: KUBECONFIG, ~/.kube/config, in-cluster)'))
    .addOption(flag('-n, --namespace <ns>', 'only this namespace\'s objects (default: all namespaces)').argParser(parseDnsLabel))
    .addOption(flag('-l, --selector <selector>', 'only objects matching this label selector'))
    .addOption(
      flag('--trusted-namespace <ns>', `namespace whose labelled schema and policy ConfigMaps count (repeatable; default: ${DEFAULT_TRUSTED_NAMESPACE})`).argParser(repeatable(parseDnsLabel)),
    );
  return addValidationFlags(command).action(async (raw: RawAuditOptions) => {
    const [{ runAudit }, { ClusterReadError }, { render }, { exitCodeOf, EXIT_IO }] = await Promise.all([
      import('../audit/run.js'),
      import('../audit/cluster.js'),
      import('../offline/render.js'),
      import('../offline/report.js'),
    ]);
    let report;
    try {
      report = await runAudit({
        ...(raw.kubeconfig ? { kubeconfig: raw.kubeconfig } : {}),
        ...(raw.namespace ? { namespace: raw.namespace } : {}),
        ...(raw.selector ? { selector: raw.selector } : {}),
        trustedNamespaces: raw.trustedNamespace?.length ? raw.trustedNamespace : [DEFAULT_TRUSTED_NAMESPACE],
        validation: validationOptionsOf(raw),
      });
    } catch (error) {
      if (error instanceof ClusterReadError) {
        process.stderr.write(`error: ${error.message}\n`);
        process.exitCode = EXIT_IO;
        return;
      }
      throw error;
    }
    for (const resource of report.absent) process.stderr.write(`note: ${resource}: not served by this cluster (CRD not installed); nothing to audit there\n`);
    const output = render(report, raw.output);
    if (output.stderr) process.stderr.write(output.stderr);
    if (output.stdout) process.stdout.write(output.stdout);
    process.exitCode = exitCodeOf(report);
  });
}


