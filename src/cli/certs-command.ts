/** `backend-webhook certs`: write a CA and a serving certificate for the Service's names. */
import { Command } from 'commander';
import { flag } from './option.js';
import { parseBoolean, parseDnsLabel, parseIntInRange, repeatable } from './parsers.js';
import { DEFAULT_SERVICE_NAME, DEFAULT_SERVICE_NAMESPACE } from './serve-command.js';

export function certsCommand(): Command {
  return new Command('certs')
    .description('Write ca.crt, ca.key, tls.crt and tls.key (PEM) for the webhook Service')
    .addOption(flag('--out-dir <dir>', 'directory to write into').default('certs'))
    .addOption(flag('--service-name <name>', 'Service name').argParser(parseDnsLabel).default(DEFAULT_SERVICE_NAME))
    .addOption(flag('--namespace <ns>', 'Service namespace').argParser(parseDnsLabel).default(DEFAULT_SERVICE_NAMESPACE))
    .addOption(flag('--dns-name <name>', 'extra DNS SAN (repeatable)').argParser(repeatable((s) => s)))
    .addOption(flag('--ip-address <ip>', 'extra IP SAN (repeatable)').argParser(repeatable((s) => s)))
    .addOption(flag('--validity-days <days>', 'serving certificate validity').argParser(parseIntInRange(1, 3650)).default(365))
    .addOption(flag('--force [bool]', 'overwrite existing files with a new CA (callers trusting the old CA stop trusting us)').argParser(parseBoolean).default(false))
    .addOption(flag('--renew [bool]', 'keep ca.crt/ca.key, write a new serving certificate from them').argParser(parseBoolean).default(false))
    .addOption(flag('--rotate-ca [bool]', 'write a new CA, keep the old one in ca-bundle.crt, keep the serving certificate (then inject the bundle and --renew)').argParser(parseBoolean).default(false))
    .action(async (o: { outDir: string; serviceName: string; namespace: string; dnsName?: string[]; ipAddress?: string[]; validityDays: number; force: boolean; renew: boolean; rotateCa: boolean }) => {
      const { runCertsCommand } = await import('./certs.js');
      process.exitCode = await runCertsCommand({
        outDir: o.outDir,
        serviceName: o.serviceName,
        namespace: o.namespace,
        dnsNames: o.dnsName ?? [],
        ipAddresses: o.ipAddress ?? [],
        validityDays: o.validityDays,
        force: o.force,
        renew: o.renew,
        rotateCa: o.rotateCa,
      });
    });
}
