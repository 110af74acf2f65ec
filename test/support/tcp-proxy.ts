// A TCP proxy for one directed link between two processes (node A dialling node B), that a
// fault test controls: pass, cut, delay, and reset at random. Each node dials its peers through
// its own proxies (its config lists the proxies' addresses), so cutting "A -> B" cuts exactly
// the connection A opens to B: A's messages to B stop while B's own stream to A still flows, a
// one-way partition. Bytes are never dropped from a live connection (that would corrupt HTTP/2
// framing); loss is modelled by resetting connections, which loses what was in flight.

import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export type LinkMode =
  /** Bytes flow, after `delayMs` if set, at most `bytesPerSecond` each way per connection if set. */
  | { kind: "pass"; delayMs?: number; bytesPerSecond?: number }
  /** Every connection is reset and new ones are reset at once: nothing gets through. */
  | { kind: "cut" }
  /** Requests reach the target but its replies are thrown away: the caller cannot know whether
   * its call took effect. Leaving this mode resets the connections (their byte streams have
   * holes). */
  | { kind: "drop-replies" };

/** Chunks held back by a delay, per direction of one connection, before the link stops reading. */
const delayedBytesMax = 8 * 1024 * 1024;

interface Pair {
  client: Socket;
  upstream: Socket;
}

export class TcpProxy {
  private mode: LinkMode = { kind: "pass" };
  private readonly pairs = new Set<Pair>();
  /** Connections accepted, for the fault summary. */
  accepted = 0;
  resets = 0;
  /** Bytes held back by a delay right now, over all connections. */
  heldBytes = 0;

  private constructor(
    private readonly server: Server,
    readonly target: string,
    readonly address: string,
  ) {}

  /** Listens on a free loopback port and forwards each connection to `target` (host:port). */
  static async start(target: string): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer({ noDelay: true }, (socket) => proxy?.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    proxy = new TcpProxy(server, target, `127.0.0.1:${port}`);
    return proxy;
  }

  get currentMode(): LinkMode {
    return this.mode;
  }

  setMode(mode: LinkMode): void {
    const wasDropping = this.mode.kind === "drop-replies";
    this.mode = mode;
    if (mode.kind === "cut" || (wasDropping && mode.kind !== "drop-replies")) this.resetAll();
  }

  /** Resets every open connection (what was in flight is lost); the peers reconnect. */
  resetAll(): void {
    for (const pair of this.pairs) this.reset(pair);
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    if (this.mode.kind === "cut") {
      client.resetAndDestroy();
      return;
    }
    const [host, port] = splitAddress(this.target);
    const upstream = connect({ host, port, noDelay: true });
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const end = (): void => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
    this.forward(client, upstream, false);
    this.forward(upstream, client, true);
  }

  /** Copies from -> to in order, holding each chunk for the delay in force when it arrived. */
  private forward(from: Socket, to: Socket, replies: boolean): void {
    // Chunks waiting for their time, oldest first; one timer serves the head, so a chunk never
    // overtakes an earlier one even when the delay shrinks meanwhile.
    const queue: { chunk: Buffer; dueMs: number }[] = [];
    let queuedBytes = 0;
    let lastPacedMs = 0;
    let timer: NodeJS.Timeout | undefined;
    const drain = (): void => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.dueMs <= Date.now()) {
        const { chunk } = queue.shift()!;
        queuedBytes -= chunk.length;
        this.heldBytes -= chunk.length;
        if (!to.destroyed) to.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.dueMs - Date.now());
      if (queuedBytes <= delayedBytesMax && from.isPaused() && to.writableLength === 0) from.resume();
    };
    from.on("data", (chunk: Buffer) => {
      if (replies && this.mode.kind === "drop-replies") return;
      const delayMs = this.mode.kind === "pass" ? (this.mode.delayMs ?? 0) : 0;
      const rate = this.mode.kind === "pass" ? this.mode.bytesPerSecond : undefined;
      if (delayMs <= 0 && rate === undefined && queue.length === 0) {
        if (!to.write(chunk)) from.pause();
        return;
      }
      // A rate limit spaces the chunks: each leaves when the previous one's bytes have "drained".
      const paced = rate === undefined ? 0 : Math.max(Date.now(), lastPacedMs) + (chunk.length * 1000) / rate;
      if (rate !== undefined) lastPacedMs = paced;
      queue.push({ chunk, dueMs: Math.max(Date.now() + delayMs, paced, queue.at(-1)?.dueMs ?? 0) });
      queuedBytes += chunk.length;
      this.heldBytes += chunk.length;
      if (queuedBytes > delayedBytesMax) from.pause();
      timer ??= setTimeout(drain, queue[0]!.dueMs - Date.now());
    });
    to.on("drain", () => {
      if (queuedBytes <= delayedBytesMax) from.resume();
    });
    to.on("close", () => {
      if (timer !== undefined) clearTimeout(timer);
      this.heldBytes -= queuedBytes;
      queuedBytes = 0;
      queue.length = 0;
    });
  }

  private reset(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    this.resets++;
    pair.client.resetAndDestroy();
    pair.upstream.resetAndDestroy();
  }
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new Error(`not a host:port address: ${address}`);
  return [address.slice(0, i), port];
}
