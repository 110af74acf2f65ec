// Shared pieces of the transport tests: a logger whose lines can be awaited, a real grpc-js
// server with RaftTransportService on 127.0.0.1, and a list of things to close after each test.

import { Server, ServerCredentials } from "@grpc/grpc-js";
import { createLogger, type Logger } from "../../src/base/logger.js";
import { newMessage } from "../../src/raft/messages.js";
import { MessageType, type Message } from "../../src/raft/types.js";
import {
  addRaftTransportService,
  type IncomingMessage,
  type RaftTransportHandlers,
  type RaftTransportStats,
  type SnapshotSink,
} from "../../src/transport/peer-server.js";

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface CollectingLogger {
  logger: Logger;
  lines: LogLine[];
  /** Resolves with the first line (already logged or to come) whose msg contains `text`. */
  waitFor(text: string): Promise<LogLine>;
}

export function collectingLogger(name: string): CollectingLogger {
  const lines: LogLine[] = [];
  const waiters: { text: string; resolve: (l: LogLine) => void }[] = [];
  const logger = createLogger({
    name,
    level: "debug",
    destination: {
      write(line: string) {
        const parsed = JSON.parse(line) as LogLine;
        lines.push(parsed);
        for (const w of waiters.splice(0)) {
          if (parsed.msg.includes(w.text)) w.resolve(parsed);
          else waiters.push(w);
        }
      },
    },
  });
  const waitFor = (text: string) => {
    const seen = lines.find((l) => l.msg.includes(text));
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve) => waiters.push({ text, resolve }));
  };
  return { logger, lines, waitFor };
}

/** Closers run after each test, last first. */
export class Closers {
  private readonly fns: (() => unknown)[] = [];
  add<T>(value: T, close: (v: T) => unknown): T {
    this.fns.push(() => close(value));
    return value;
  }
  async closeAll(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) await fn();
  }
}

export interface Batch {
  from: string;
  messages: IncomingMessage[];
}

export interface TransportServer {
  server: Server;
  port: number;
  address: string;
  stats: RaftTransportStats;
  batches: Batch[];
  log: CollectingLogger;
  waitForBatches(n: number): Promise<Batch[]>;
  stop(): void;
}

export const serverNodeId = "n2";
export const configVersion = 7;

export async function startTransportServer(
  options: {
    port?: number;
    handlers?: Partial<RaftTransportHandlers>;
    beginSnapshot?: RaftTransportHandlers["beginSnapshot"];
  } = {},
): Promise<TransportServer> {
  const server = new Server();
  const batches: Batch[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const log = collectingLogger("peer-server");
  const handlers: RaftTransportHandlers = {
    nodeId: serverNodeId,
    configVersion,
    knownPeer: (id) => ["n1", "n2", "n3"].includes(id),
    onMessages: (from, messages) => {
      batches.push({ from, messages });
      for (const w of waiters.splice(0)) batches.length >= w.n ? w.resolve() : waiters.push(w);
    },
    beginSnapshot: options.beginSnapshot ?? (() => refusingSink()),
    ...options.handlers,
  };
  const stats = addRaftTransportService(server, handlers, log.logger);
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, ServerCredentials.createInsecure(), (e, p) =>
      e ? fail(e) : ok(p),
    ),
  );
  return {
    server,
    port,
    address: `127.0.0.1:${port}`,
    stats,
    batches,
    log,
    waitForBatches: (n) =>
      batches.length >= n
        ? Promise.resolve(batches)
        : new Promise<Batch[]>((resolve) => waiters.push({ n, resolve: () => resolve(batches) })),
    stop: () => server.forceShutdown(),
  };
}

function refusingSink(): SnapshotSink {
  throw new Error("this test sends no snapshot");
}

export function heartbeat(from: number, to: number, commit: number): Message {
  return { ...newMessage(MessageType.Heartbeat, from, to, 3), commit };
}
