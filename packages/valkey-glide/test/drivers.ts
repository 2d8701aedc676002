import { GlideClient, GlideClusterClient, Logger } from '@valkey/valkey-glide';
import type { DriverCase } from '@hilok/contract-tests';
import { createValkeyGlideAdapter, type ValkeyGlideClient } from '@hilok/valkey-glide';

// GLIDE's native core logs every error reply at WARN (a first EVALSHA's NOSCRIPT, the suites'
// script errors): only errors in test output.
Logger.init('error');

type AnyClient = GlideClient | GlideClusterClient;

/** An address of a redis:// URL. */
function address(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/**
 * Valkey GLIDE 2.x as a driver case. GLIDE's request timeout is raised from its 250 ms default
 * so that hilok's own deadlines (`commandTimeout`, each acquire's timeout) decide, as on the
 * other drivers. No `connectingClient`: GLIDE has no client that connects on its own —
 * `createClient` connects or rejects (see README, "Connection failures").
 */
export const glide: DriverCase<AnyClient> = {
  name: 'valkey-glide 2',
  client: (url) => GlideClient.createClient({ addresses: [address(url)], requestTimeout: 10_000 }),
  clusterClient: (nodes) => GlideClusterClient.createClient({ addresses: nodes, requestTimeout: 10_000 }),
  closeClient: async (client) => client.close(),
  adapter: (client, options) => createValkeyGlideAdapter(client as unknown as ValkeyGlideClient, options),
};
