/** Every flag is also readable from BACKEND_WEBHOOK_<FLAG> (upper snake case). */
import { Option } from 'commander';

export const ENV_PREFIX = 'BACKEND_WEBHOOK_';

export function envNameFor(flags: string): string {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1];
  if (!long) throw new Error(`internal: no long flag in ${flags}`);
  return ENV_PREFIX + long.toUpperCase().replace(/-/g, '_');
}

/** An Option bound to its environment variable. */
export function flag(flags: string, description: string): Option {
  return new Option(flags, description).env(envNameFor(flags));
}
