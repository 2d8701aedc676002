/**
 * docker-compose.yml runs password-less Redis servers: none may be reachable from beyond this
 * machine (issue 21). Every published port must name a loopback address, and every server on
 * the host network must `--bind` loopback addresses only, with protected mode left on.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const FILE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));
const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

interface Service {
  ports?: (string | number | { host_ip?: string; published?: string | number; target?: number })[];
  network_mode?: string;
  command?: string | string[];
}

/** Every way `compose` would expose a server beyond loopback, one message each. */
function exposures(text: string): string[] {
  const doc = parse(text, { merge: true }) as { services?: Record<string, Service> };
  const problems: string[] = [];
  for (const [name, service] of Object.entries(doc.services ?? {})) {
    for (const port of service.ports ?? []) {
      if (typeof port === 'object') {
        if (!LOOPBACK.has(String(port.host_ip ?? ''))) problems.push(`${name}: port ${JSON.stringify(port)} has no loopback host_ip`);
        continue;
      }
      // Short syntax: [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]; the IP may be [v6].
      const spec = String(port).replace(/\/\w+$/, '');
      const m = /^(?:(\[[^\]]+\]|[^:]+):)?([\d-]+):([\d-]+)$/.exec(spec);
      const ip = m && m[1] !== undefined ? m[1] : '';
      if (!LOOPBACK.has(ip)) problems.push(`${name}: port "${port}" is published on every interface (write "127.0.0.1:${spec}")`);
    }
    if (service.network_mode === 'host') {
      const command = Array.isArray(service.command) ? service.command.join(' ') : String(service.command ?? '');
      if (!/redis-(server|sentinel)\b/.test(command)) continue; // a client (cluster-init's redis-cli), nothing listens
      const bind = /--bind\s+((?:(?!--)\S+\s*)+)/.exec(command);
      const addresses = bind ? (bind[1] as string).trim().split(/\s+/) : [];
      if (addresses.length === 0) problems.push(`${name}: a host-network redis-server without --bind listens on every interface`);
      for (const a of addresses) if (!LOOPBACK.has(a.replace(/^-/, ''))) problems.push(`${name}: --bind ${a} is beyond loopback`);
      if (/--protected-mode\s+no\b/.test(command)) problems.push(`${name}: --protected-mode no`);
    }
  }
  return problems;
}

describe('docker-compose.yml', () => {
  const text = readFileSync(FILE, 'utf8');

  it('publishes every port on loopback only, and its host-network servers bind loopback with protected mode on', () => {
    expect(exposures(text)).toEqual([]);
    const doc = parse(text, { merge: true }) as { services: Record<string, Service> };
    // The check saw what it should: the published ports and the three cluster servers.
    expect(Object.values(doc.services).flatMap((s) => s.ports ?? [])).toHaveLength(6);
    expect(Object.values(doc.services).filter((s) => s.network_mode === 'host' && /redis-server/.test(String(s.command)))).toHaveLength(3);
  });

  it('the check fails on a port on every interface, a wide --bind, no --bind, or protected mode off', () => {
    // (The file's comments quote these strings too: replace the configuration, not the comments.)
    const bind = '--bind 127.0.0.1 --protected-mode yes';
    const broken = [
      text.replace('ports: ["127.0.0.1:6379:6379"]', 'ports: ["6379:6379"]'),
      text.replace('ports: ["127.0.0.1:6381:6379"]', 'ports: ["0.0.0.0:6381:6379"]'),
      text.replace('ports: ["127.0.0.1:6382:6379"]', 'ports: ["6379"]'),
      text.replace('ports: ["127.0.0.1:6383:6379"]', 'ports: [{ target: 6379, published: 6383 }]'),
      text.replace(bind, '--bind 0.0.0.0 --protected-mode yes'),
      text.replace(bind, '--bind 127.0.0.1 192.168.1.5 --protected-mode yes'),
      text.replace(bind, '--protected-mode yes'),
      text.replace(bind, '--bind 127.0.0.1 --protected-mode no'),
    ];
    for (const t of broken) {
      expect(t).not.toBe(text);
      expect(exposures(t).length).toBeGreaterThan(0);
    }
  });
});
