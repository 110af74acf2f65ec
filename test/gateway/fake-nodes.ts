// In-process fake NodeService servers on loopback, each scripted by the test: what Propose and
// Read answer (a result, NOT_LEADER with or without a hint, UNAVAILABLE, a hang until the
// caller gives up), with every request recorded. Plus a cluster config naming them, and
// "down" nodes: an address where nothing listens.

import { afterEach } from "vitest";
import { ClusterBackend, type ClusterBackendOptions } from "../../src/gateway/cluster-backend.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { LedgerError } from "../../src/base/errors.js";
import type { ClusterConfig } from "../../src/cluster/config.js";
import { shardKeyMax } from "../../src/cluster/shard-key.js";
import {
  CommandResultSchema,
  CommandSchema,
  QueryResultSchema,
  type Command,
  type CommandResult,
  type QueryResult,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import {
  NodeService,
  ProposeResponseSchema,
  ReadResponseSchema,
  type ProposeRequest,
  type ProposeResponse,
  type ReadRequest,
  type ReadResponse,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import { addUnaryService, type HandlerContext, type UnaryImpl } from "../../src/transport/grpc-service.js";
import { createLogger } from "../../src/base/logger.js";
import { createCallStreamService } from "../../src/transport/call-stream-server.js";
import { findFreePort } from "../support/free-port.js";

export type ProposeScript = (request: ProposeRequest, ctx: HandlerContext, node: FakeNode) => Promise<ProposeResponse>;
export type ReadScript = (request: ReadRequest, ctx: HandlerContext, node: FakeNode) => Promise<ReadResponse>;

export class FakeNode {
  /** Every Propose received, in order; `command` is a copy of the bytes as they arrived. */
  readonly proposals: { shardId: string; command: Uint8Array; requestId: string }[] = [];
  readonly reads: ReadRequest[] = [];
  onPropose: ProposeScript = () => Promise.reject(new LedgerError("INTERNAL", `${this.id}: Propose not scripted`));
  onRead: ReadScript = () => Promise.reject(new LedgerError("INTERNAL", `${this.id}: Read not scripted`));

  constructor(
    readonly id: string,
    readonly address: string,
    private readonly server: Server | undefined,
  ) {}

  /** Calls of both kinds received so far. */
  get calls(): number {
    return this.proposals.length + this.reads.length;
  }

  /** Ends every call at once and stops listening: the node is down from now on. */
  stop(): void {
    this.server?.forceShutdown();
  }

  /** Builds the server side; the handlers look the script up per call, so tests can change it. */
  static async start(id: string): Promise<FakeNode> {
    const server = new Server();
    let node: FakeNode | undefined;
    const self = (): FakeNode => node!;
    const impl: UnaryImpl<typeof NodeService> = {
      propose: (request, ctx) => {
        self().proposals.push({
          shardId: request.shardId,
          command: Uint8Array.from(request.command),
          requestId: request.requestId,
        });
        return self().onPropose(request, ctx, self());
      },
      read: (request, ctx) => {
        self().reads.push(request);
        return self().onRead(request, ctx, self());
      },
      replicaStates: () => Promise.reject(new LedgerError("INTERNAL", "fake node: no admin API")),
      transferLeadership: () => Promise.reject(new LedgerError("INTERNAL", "fake node: no admin API")),
      triggerSnapshot: () => Promise.reject(new LedgerError("INTERNAL", "fake node: no admin API")),
    };
    // The gateway reaches nodes over the Calls stream; it runs the same scripted handlers.
    const calls = createCallStreamService({
      impl,
      logger: createLogger({ name: "fake-node", level: "silent" }),
      onInternalError: () => undefined,
    });
    addUnaryService(server, NodeService, impl, () => undefined, undefined, { calls: calls.handler });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    node = new FakeNode(id, `127.0.0.1:${port}`, server);
    return node;
  }

  /** A node that is down: its address is a free port nobody listens on. */
  static async down(id: string): Promise<FakeNode> {
    return new FakeNode(id, `127.0.0.1:${await findFreePort()}`, undefined);
  }
}

/** Nodes node01..nodeNN; those listed in `down` are not running. Stop them with stopNodes. */
export async function startFakeNodes(count: number, down: readonly number[] = []): Promise<FakeNode[]> {
  const ids = Array.from({ length: count }, (_, i) => `node${String(i + 1).padStart(2, "0")}`);
  return Promise.all(ids.map((id, i) => (down.includes(i) ? FakeNode.down(id) : FakeNode.start(id))));
}

export function stopNodes(nodes: readonly FakeNode[]): void {
  for (const n of nodes) n.stop();
}

/**
 * `shardCount` shards with equal key ranges, every shard replicated on every node in node order,
 * so shard i's preferred leader (replicas[i % n]) is nodes[i % n].
 */
export function fakeClusterConfig(nodes: readonly FakeNode[], shardCount: number): ClusterConfig {
  const span = Math.floor((shardKeyMax + 1) / shardCount);
  return {
    version: 1,
    nodes: nodes.map((n) => ({ id: n.id, address: n.address })),
    shards: Array.from({ length: shardCount }, (_, s) => ({
      id: `shard-${String(s).padStart(2, "0")}`,
      lowerBound: s * span,
      upperBound: s === shardCount - 1 ? shardKeyMax : (s + 1) * span - 1,
      replicas: nodes.map((n, r) => ({ id: s * nodes.length + r + 1, nodeId: n.id })),
    })),
  };
}

// Script helpers.

export function answerCommand(result: CommandResult): ProposeResponse {
  return create(ProposeResponseSchema, { result: toBinary(CommandResultSchema, result), index: 1n });
}

export function answerQuery(result: QueryResult): ReadResponse {
  return create(ReadResponseSchema, { result: toBinary(QueryResultSchema, result), appliedIndex: 1n });
}

export function notLeader(node: FakeNode, leader?: string): LedgerError {
  return new LedgerError("NOT_LEADER", `${node.id} is not the leader`, leader ? { leader } : {});
}

/** Never answers: resolves only by the caller's deadline or cancellation (the server aborts ctx). */
export function hang<T>(ctx: HandlerContext): Promise<T> {
  return new Promise((_, reject) => {
    ctx.signal.addEventListener("abort", () => reject(new LedgerError("CANCELLED", "caller gave up")), { once: true });
  });
}

export function decodeCommand(bytes: Uint8Array): Command {
  return fromBinary(CommandSchema, bytes);
}

/** A test file's fake cluster: `cluster()` starts fake nodes and a ClusterBackend over them (its
 * debug log kept in `logLines`); both are stopped after each test. */
export interface FakeCluster {
  /** The nodes of the current test's cluster. */
  readonly nodes: FakeNode[];
  cluster(
    count: number,
    shardCount: number,
    options?: { down?: number[] } & Partial<ClusterBackendOptions>,
  ): Promise<{ backend: ClusterBackend; config: ClusterConfig; logLines: Record<string, unknown>[] }>;
}

export function useFakeCluster(): FakeCluster {
  let nodes: FakeNode[] = [];
  let backends: ClusterBackend[] = [];
  afterEach(async () => {
    await Promise.all(backends.map((b) => b.close()));
    stopNodes(nodes);
    backends = [];
    nodes = [];
  });
  return {
    get nodes() {
      return nodes;
    },
    async cluster(count, shardCount, options = {}) {
      nodes = await startFakeNodes(count, options.down);
      const config = fakeClusterConfig(nodes, shardCount);
      const logLines: Record<string, unknown>[] = [];
      const logger = createLogger({
        name: "gateway-test",
        level: "debug",
        destination: { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
      });
      const backend = new ClusterBackend({
        config,
        logger,
        security: insecureTransport(),
        random: () => 0.5,
        ...options,
      });
      backends.push(backend);
      return { backend, config, logLines };
    },
  };
}
