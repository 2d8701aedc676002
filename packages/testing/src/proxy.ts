import net from 'node:net';

/** Options of {@link startProxy}. */
export interface StartProxyOptions {
  /** Port of the server to forward to (e.g. `server.port`). */
  targetPort: number;
  /** Host of the server to forward to. Default `127.0.0.1`. */
  targetHost?: string;
  /** Port to listen on (127.0.0.1). Default: a free one. */
  port?: number;
}

/** A direction bytes travel through the proxy. */
export type ProxyDirection = 'toServer' | 'toClient';

/**
 * A TCP proxy on 127.0.0.1 in front of one server, with switchable faults, for testing how
 * clients and locks behave on a slow, partitioned or flaky network. Point the client at
 * {@link TcpProxy.url} instead of the server.
 */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Client connections currently open through the proxy. */
  readonly connections: number;
  /**
   * Delays every chunk by `ms` in each direction (a round trip grows by about `2 * ms`), order
   * kept. Applies to bytes arriving from now on; 0 turns it off.
   */
  setLatency(ms: number): void;
  /**
   * A partition: while on, connections are accepted and held open but every byte in both
   * directions is dropped (including ones still delayed by latency), nothing is closed.
   * Dropped bytes are gone for good, unlike real TCP which would retransmit them after the
   * partition heals — so a client's in-flight command never gets its reply. Closes (FIN, RST)
   * that happen during the blackhole are passed on when it is turned off.
   */
  blackhole(on: boolean): void;
  /** Drops bytes in one direction only (`null`: neither), e.g. requests reach the server but replies are lost. */
  oneWay(direction: ProxyDirection | null): void;
  /** Aborts every current connection with a TCP RST on both sides (new ones are accepted). */
  reset(): void;
  /** Closes the listener and destroys every connection. */
  stop(): Promise<void>;
  /** Same as `stop()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The faults a {@link Pipe} consults for every chunk (shared by all connections). */
interface Faults {
  latency: number;
  blackhole: boolean;
  oneWay: ProxyDirection | null;
}

/**
 * One direction of one connection: forwards chunks from `src` to `dst`, in order, each no
 * earlier than its arrival time + latency. A FIFO with one timer for the head keeps order even
 * when latency shrinks while chunks are queued (a chunk is never due before its predecessor).
 */
class Pipe {
  private readonly queue: { chunk: Buffer; due: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDue = 0;
  private srcEnded = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly direction: ProxyDirection,
    private readonly faults: Faults,
  ) {
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    src.on('end', () => {
      this.srcEnded = true;
      this.flush();
    });
  }

  private dropping(): boolean {
    return this.faults.blackhole || this.faults.oneWay === this.direction;
  }

  private onData(chunk: Buffer): void {
    if (this.dropping()) return;
    const due = Math.max(Date.now() + this.faults.latency, this.lastDue);
    this.lastDue = due;
    this.queue.push({ chunk, due });
    this.flush();
  }

  /**
   * Writes every chunk that is due; re-arms the timer for the next one. Also called when the
   * faults change, to pass on a FIN held back by a partition.
   */
  flush(): void {
    if (this.timer) return; // the armed timer will call flush()
    const now = Date.now();
    while (this.queue.length > 0 && (this.queue[0]?.due ?? 0) <= now) {
      const { chunk } = this.queue.shift() ?? { chunk: Buffer.alloc(0) };
      // Checked again on delivery: a blackhole also swallows bytes already "on the wire".
      if (this.dropping() || this.dst.destroyed) continue;
      if (!this.dst.write(chunk)) {
        // Backpressure: stop reading until the other side drains.
        this.src.pause();
        this.dst.once('drain', () => this.src.resume());
      }
    }
    const head = this.queue[0];
    if (head) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, head.due - now);
      return;
    }
    // Half-close travels like data (after it). A partition holds it back until it heals, as
    // TCP would retransmit it; otherwise every connection a client closed during a blackhole
    // would stay open to the server forever.
    if (this.srcEnded && !this.dropping() && !this.dst.destroyed && !this.dst.writableEnded) this.dst.end();
  }

  /** Forgets queued bytes and timers (the connection is being torn down). */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

/** Destroys a socket with RST if it is connected, else just destroys it. */
function abort(socket: net.Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    // resetAndDestroy throws on a socket that is not (or no longer) a connected TCP handle.
    socket.destroy();
  }
}

/**
 * Starts a {@link TcpProxy} on a free 127.0.0.1 port in front of `targetHost:targetPort`.
 *
 * @example
 * const proxy = await startProxy({ targetPort: server.port });
 * const client = new Redis(proxy.url);
 * proxy.blackhole(true); // the client's commands now time out
 */
export async function startProxy(options: StartProxyOptions): Promise<TcpProxy> {
  const { targetPort, targetHost = '127.0.0.1' } = options;
  const faults: Faults = { latency: 0, blackhole: false, oneWay: null };
  interface Pair {
    client: net.Socket;
    upstream: net.Socket;
    pipes: Pipe[];
    /** A side that failed during a blackhole: abort this one once it heals. */
    abortPending?: net.Socket;
  }
  const pairs = new Set<Pair>();

  // allowHalfOpen: the Pipes forward a FIN themselves, after the bytes delayed before it.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = net.connect({ host: targetHost, port: targetPort, allowHalfOpen: true, noDelay: true });
    const pair: Pair = {
      client,
      upstream,
      pipes: [new Pipe(client, upstream, 'toServer', faults), new Pipe(upstream, client, 'toClient', faults)],
    };
    pairs.add(pair);
    let closed = 0;
    const onClose = (hadError: boolean, other: net.Socket) => {
      // An error (RST, refused) on one side is passed on as an abort of the other side;
      // a clean close already reached it through the pipes as a FIN.
      // During a blackhole even that stays unseen until it heals.
      if (hadError && !other.destroyed) {
        if (faults.blackhole) pair.abortPending = other;
        else abort(other);
      }
      if (++closed === 2) {
        for (const pipe of pair.pipes) pipe.dispose();
        pairs.delete(pair);
      }
    };
    // Errors surface as 'close' with hadError; without listeners they would crash the process.
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', (hadError) => onClose(hadError, upstream));
    upstream.on('close', (hadError) => onClose(hadError, client));
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Like the servers: a forgotten proxy must not keep a script from exiting.
  server.unref();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const destroyAll = (how: (socket: net.Socket) => void) => {
    for (const pair of pairs) {
      for (const pipe of pair.pipes) pipe.dispose();
      how(pair.client);
      how(pair.upstream);
    }
    pairs.clear();
  };

  /** Applies a fault change to existing connections: held-back FINs and aborts go out. */
  const refresh = () => {
    for (const pair of pairs) {
      if (pair.abortPending && !faults.blackhole) {
        abort(pair.abortPending);
        pair.abortPending = undefined;
      }
      for (const pipe of pair.pipes) pipe.flush();
    }
  };

  const stop = async () => {
    destroyAll((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    setLatency(ms: number) {
      faults.latency = Math.max(0, ms);
    },
    blackhole(on: boolean) {
      faults.blackhole = on;
      refresh();
    },
    oneWay(direction: ProxyDirection | null) {
      faults.oneWay = direction;
      refresh();
    },
    reset() {
      destroyAll(abort);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
