/** `backend-webhook inject-ca`: patch our CA into the caBundle of our webhook configurations. */
import { Command } from 'commander';
import { flag } from './option.js';
import { parseDnsSubdomain } from './parsers.js';

export function injectCaCommand(): Command {
  return new Command('inject-ca')
    .description('Patch the CA into webhooks[*].clientConfig.caBundle of our Validating/MutatingWebhookConfiguration')
    .addOption(flag('--ca-file <file>', 'PEM CA (or bundle) to inject').default('certs/ca.crt'))
    .addOption(flag('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)'))
    .addOption(flag('--validating-name <name>', 'ValidatingWebhookConfiguration name').argParser(parseDnsSubdomain).default('backend-webhook'))
    .addOption(flag('--mutating-name <name>', 'MutatingWebhookConfiguration name').argParser(parseDnsSubdomain).default('backend-webhook'))
    .action(async (o: { caFile: string; kubeconfig?: string; validatingName: string; mutatingName: string }) => {
      const { runInjectCaCommand } = await import('./inject-ca.js');
      process.exitCode = await runInjectCaCommand({ caFile: o.caFile, kubeconfig: o.kubeconfig, validatingName: o.validatingName, mutatingName: o.mutatingName });
    });
}
