/** `TWO_FACTOR_KEYS` for the command line: the app's encryption keys, `id1:key1,id2:key2`, first seals. */
import { parseEncryptionKeys, SecretBox } from '../core/encryption.ts';
import { CliError, messageOf } from './cli-io.ts';

export interface CliKeys {
  box: SecretBox;
  /** Key ids in the order listed; `ids[0]` seals. */
  ids: string[];
}

/** The keys in `TWO_FACTOR_KEYS`, or undefined when it is not set; a malformed setting is a `CliError`. */
export function readKeys(env: Record<string, string | undefined>): CliKeys | undefined {
  const setting = env['TWO_FACTOR_KEYS'];
  if (!setting || !setting.trim()) return undefined;
  const keys = parseEncryptionKeys(setting);
  try {
    return { box: new SecretBox(keys), ids: keys.map((k) => k.id) };
  } catch (err) {
    throw new CliError(`TWO_FACTOR_KEYS: ${messageOf(err)}`);
  }
}

/** The keys, which `what` cannot do without. */
export function requireKeys(env: Record<string, string | undefined>, what: string): CliKeys {
  const keys = readKeys(env);
  if (!keys) throw new CliError(`${what} needs the app's encryption keys: set TWO_FACTOR_KEYS (id1:key1,id2:key2, as the app has it)`);
  return keys;
}
