import { GlideClient, GlideClusterClient, Logger } from '@valkey/valkey-glide';
import type { DriverCase } from '@hilok/contract-tests';
import { createValkeyGlideAdapter, type ValkeyGlideClient } from '@hilok/valkey-glide';

// GLIDE's native core logs to stdout: every error reply at WARN (a first EVALSHA's NOSCRIPT, the
// suites' script errors), and a SUBSCRIBE refused by an ACL (the managed-Redis suite's) at ERROR,
// thousands of times a second while it retries. The tests check outcomes, not logs: off.
Logger.init('off');

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
  tlsClient: (url, ca) => {
    const parsed = new URL(url);
    return GlideClient.createClient({
      addresses: [address(url)],
      requestTimeout: 10_000,
      useTLS: true,
      credentials: { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) },
      advancedConfiguration: { tlsAdvancedConfiguration: { rootCertificates: ca } },
    });
  },
  clusterClient: (nodes) => GlideClusterClient.createClient({ addresses: nodes, requestTimeout: 10_000 }),
  closeClient: async (client) => client.close(),
  adapter: (client, options) => createValkeyGlideAdapter(client as unknown as ValkeyGlideClient, options),
};
