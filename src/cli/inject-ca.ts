/** `backend-webhook inject-ca`: put the CA into our webhook configurations' caBundle. */
import { readFile } from 'node:fs/promises';
import { CaInjectionError, injectCaBundle } from '../tls/inject-ca.js';
import { processOutput, type CommandOutput } from './certs.js';

export interface InjectCaCommandOptions {
  caFile: string;
  kubeconfig?: string;
  validatingName: string;
  mutatingName: string;
}

/** Exit codes: 0 both configurations carry the CA, 1 a configuration could not be patched, 2 unusable CA file or kubeconfig. */
export async function runInjectCaCommand(options: InjectCaCommandOptions, output: CommandOutput = processOutput): Promise<number> {
  let caPem: string;
  try {
    caPem = await readFile(options.caFile, 'utf8');
  } catch (error) {
    output.err(`error: cannot read ${options.caFile}: ${(error as Error).message}`);
    return 2;
  }
  try {
    const results = await injectCaBundle({
      caPem,
      validatingName: options.validatingName,
      mutatingName: options.mutatingName,
      ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
    });
    for (const result of results) {
      if (result.outcome === 'failed') output.err(`error: ${result.kind} ${result.name}: ${result.error?.message ?? 'failed'}`);
      else output.out(`${result.kind} ${result.name}: ${result.outcome} (${result.webhooks} webhook${result.webhooks === 1 ? '' : 's'})`);
    }
    return results.some((result) => result.outcome === 'failed') ? 1 : 0;
  } catch (error) {
    if (error instanceof CaInjectionError) {
      output.err(`error: ${error.message}`);
      return error.code === 'BAD_CA' || error.code === 'KUBECONFIG' ? 2 : 1;
    }
    throw error;
  }
}
