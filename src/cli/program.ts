/**
 * The command line: one commander program, one module per command. Usage errors (unknown flag, bad
 * value) print one line and exit with code 2, so start-up scripts can tell them from crashes.
 */
import { Command, CommanderError } from 'commander';
import { auditCommand } from './audit-command.js';
import { certsCommand } from './certs-command.js';
import { injectCaCommand } from './inject-ca-command.js';
import { serveCommand } from './serve-command.js';
import { UsageError } from './usage-error.js';
import { validateCommand } from './validate-command.js';

export const USAGE_EXIT_CODE = 2;

export function buildProgram(): Command {
  const program = new Command('backend-webhook')
    .description('Admission webhook for Backend and XBackendDestination (ainetworking.prototype.x-k8s.io), Gateway API XBackend, and a BackendTLSPolicy guard')
    .showHelpAfterError(false)
    .exitOverride();
  program.addCommand(serveCommand());
  program.addCommand(certsCommand());
  program.addCommand(injectCaCommand());
  program.addCommand(validateCommand());
  program.addCommand(auditCommand());
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the exit code for commands that finish, never for `serve`. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; commander already printed the one-line reason.
      if (err.exitCode === 0) return 0;
      return USAGE_EXIT_CODE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return USAGE_EXIT_CODE;
    }
    throw err;
  }
}

