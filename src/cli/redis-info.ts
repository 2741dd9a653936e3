/** Reading `INFO` replies. */
import type { Redis } from 'ioredis';

/** `INFO <section>` as field → value. */
export async function info(node: Redis, section: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await node.info(section)).split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}
