/**
 * `backend-webhook validate`: judges manifests offline with the server's own processors, for CI.
 * Exit codes: 0 all valid, 1 an invalid object, a broken document or no object at all (unless
 * --allow-empty), 2 usage or I/O error.
 */
import { Command } from 'commander';
import type { OutputFormat } from '../offline/render.js';
import { flag } from './option.js';
import { parseBoolean, parseChoice, repeatable } from './parsers.js';
import { addValidationFlags, validationOptionsOf, type RawValidationFlags } from './validation-flags.js';
import { UsageError } from './usage-error.js';

interface RawValidateOptions extends RawValidationFlags {
  output: OutputFormat;
  strict: boolean;
  showDefaults: boolean;
  allowEmpty: boolean;
  schemaDir?: string[];
  policyDir?: string[];
  against?: string[];
}

// Kept here (not imported from render.ts) so building the command loads nothing heavy.
const FORMATS = ['text', 'json', 'github'] as const;

/** Repeatable path flag (each use appends; the environment variable may hold a comma-separated list). */
const keep = repeatable((value: string) => value);

/**
 * A switch takes no value on the command line (`--strict`, so it cannot swallow a path), but its
 * environment variable says true or false: commander alone would turn `..._STRICT=false` on.
 */
function switchValue(command: Command, key: string, fromCli: boolean): boolean {
  if (command.getOptionValueSource(key) !== 'env') return fromCli;
  const option = command.options.find((o) => o.attributeName() === key);
  const envVar = option?.envVar;
  try {
    return parseBoolean(envVar === undefined ? undefined : process.env[envVar]);
  } catch {
    throw new UsageError(`${envVar} must be true or false`);
  }
}

export function validateCommand(): Command {
  const validate = new Command('validate')
    .description('Judge Backend, XBackendDestination, XBackend and BackendTLSPolicy manifests offline with the webhook\'s rules (for CI)')
    .argument('[paths...]', 'files, directories (recursive: .yaml, .yml, .json) or - for standard input')
    .addOption(flag('-o, --output <format>', 'text, json, or github (GitHub Actions annotations)').argParser(parseChoice(FORMATS)).default('text'))
    .addOption(flag('--strict', 'objects of kinds the webhook does not judge are errors, not skipped').default(false))
    .addOption(flag('--show-defaults', 'print the defaulting patch each object would get').default(false))
    .addOption(flag('--allow-empty', 'input without any object passes (default: exit 1, "no objects in input")').default(false))
    .addOption(flag('--schema-dir <dir>', 'directory or file of extension-schema ConfigMaps (repeatable; default: only those in the input)').argParser(keep))
    .addOption(flag('--policy-dir <dir>', 'directory or file of platform-policy ConfigMaps (repeatable; default: only those in the input)').argParser(keep))
    .addOption(flag('--against <path>', 'file or directory of the objects as they are now (e.g. kubectl get backends -A -o yaml): a match is judged as an UPDATE, with ratcheting (repeatable)').argParser(keep));
  return addValidationFlags(validate)
    .action(async (paths: string[], raw: RawValidateOptions, command: Command) => {
      if (paths.length === 0) throw new UsageError('validate needs files, directories, or - for standard input');
      if (raw.against?.includes('-')) throw new UsageError('--against reads files or directories, not standard input');
      const strict = switchValue(command, 'strict', raw.strict);
      const showDefaults = switchValue(command, 'showDefaults', raw.showDefaults);
      const allowEmpty = switchValue(command, 'allowEmpty', raw.allowEmpty);
      const [{ runOfflineValidation }, { render }, { exitCodeOf }] = await Promise.all([
        import('../offline/run.js'),
        import('../offline/render.js'),
        import('../offline/report.js'),
      ]);
      const report = await runOfflineValidation({
        paths,
        schemaDirs: raw.schemaDir ?? [],
        policyDirs: raw.policyDir ?? [],
        against: raw.against ?? [],
        validation: validationOptionsOf(raw),
        strict,
        showDefaults,
      });
      const output = render(report, raw.output);
      if (output.stderr) process.stderr.write(output.stderr);
      if (output.stdout) process.stdout.write(output.stdout);
      process.exitCode = exitCodeOf(report);
      // An empty stream is most often a renderer that failed upstream of the pipe: never a pass by default.
      if (process.exitCode === 0 && report.results.length === 0 && !allowEmpty) {
        process.stderr.write(`error: no objects in input (${paths.join(' ')}); pass --allow-empty if that is expected\n`);
        process.exitCode = 1;
      }
    });
}
