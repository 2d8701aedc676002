import type { StartedTestContainer } from 'testcontainers';
import { RemoteRedisServer } from './external.js';
import type { StartRedisOptions } from './server.js';

/** The image of the Docker fallback; same major as the redis-server the suites target. */
const IMAGE = 'redis:7';

/**
 * A `redis:7` container started through testcontainers, for machines with Docker but no
 * redis-server. Process control is unavailable: a restarted container would get a new mapped
 * port, which is not what `restart()` promises.
 */
class DockerRedisServer extends RemoteRedisServer {
  readonly kind = 'docker' as const;
  private stopped = false;

  constructor(private readonly container: StartedTestContainer) {
    const host = container.getHost();
    const port = container.getMappedPort(6379);
    super({ host, port }, `redis://${host}:${port}`, 'with the Docker fallback');
  }

  get running(): boolean {
    return !this.stopped;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.container.stop({ timeout: 2_000 });
  }
}

/**
 * Starts `redis:7` in Docker with the same server arguments {@link startRedis} would use.
 * testcontainers is imported here, dynamically, so it is never loaded when redis-server exists.
 */
export async function startDockerRedis(options: StartRedisOptions = {}): Promise<DockerRedisServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const persistence = options.persistence
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--save', '', '--appendonly', 'no'];
  const container = await new GenericContainer(IMAGE)
    .withExposedPorts(6379)
    .withCommand(['redis-server', '--protected-mode', 'no', '--enable-debug-command', 'yes', ...persistence, ...(options.args ?? [])])
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .withStartupTimeout(options.startTimeout ?? 60_000)
    .start();
  return new DockerRedisServer(container);
}
