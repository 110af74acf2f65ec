// The node's gRPC server: NodeService (propose, read, admin), RaftTransportService (peer
// message streams and snapshot streams) and grpc.health.v1 on the node's address from the
// cluster config; and the node's graceful stop.

import { Server } from "@grpc/grpc-js";
import type { CallWithAuth } from "../transport/channel-security.js";
import { nodeCallsGraceMs, nodeHealthIntervalMs } from "./limits.js";
import { grpcMessageBytesMax } from "../transport/limits.js";
import type { Logger } from "../base/logger.js";
import { NodeService } from "../gen/ledger/node/v1/node_pb.js";
import { describeBindError } from "../transport/grpc-server-support.js";
import { HealthReporter } from "../ops/health.js";
import { addUnaryService, type CallObserver, type HandlerContext } from "../transport/grpc-service.js";
import { strictServerOptions } from "../transport/strict-decoding.js";
import { addRaftTransportService } from "../transport/peer-server.js";
import { drainLeadership } from "./drain.js";
import type { NodeHost } from "./node-host.js";
import { createCallStreamService } from "../transport/call-stream-server.js";
import { createNodeService } from "./node-service.js";
import { certRoleInterceptor } from "../security/auth-interceptors.js";
import type { TransportSecurity } from "../security/transport-security.js";
import type { PeerIdentity } from "../security/identity.js";

export interface NodeServer {
  address: string;
  health: HealthReporter;
  /**
   * The graceful stop: health NOT_SERVING, leadership handed to other nodes (bounded by
   * nodeDrainMsMax), no new calls, in-flight calls get up to `graceMs` to end, the host closes
   * (committed entries applied, synced, LevelDB closed), then the peer streams are cut. A
   * `graceMs` of 0 skips the handoff and the wait.
   */
  shutdown(graceMs?: number): Promise<void>;
}

export interface NodeServerOptions {
  /** TLS and peer authentication (or the explicit --insecure). */
  security: TransportSecurity;
  /** Told of every peer batch or snapshot whose claimed sender is not its certificate's (metrics). */
  onIdentityMismatch?: (certified: string) => void;
  /** Told of every finished NodeService call (metrics). */
  observe?: CallObserver;
  /** How often health is recomputed (nodeHealthIntervalMs by default). */
  healthIntervalMs?: number;
}

export async function startNodeServer(
  host: NodeHost,
  address: string,
  logger: Logger,
  options: NodeServerOptions,
): Promise<NodeServer> {
  const { security } = options;
  // Same message limit as the peers' senders check against (grpcMessageBytesMax). Every call
  // first passes the certificate check: only nodes may send Raft traffic.
  // Undecodable requests get INVALID_ARGUMENT, on every service (strict-decoding.ts).
  const server = new Server(
    strictServerOptions({
      "grpc.max_receive_message_length": grpcMessageBytesMax,
      "grpc.max_send_message_length": grpcMessageBytesMax,
      interceptors: [certRoleInterceptor(security, logger, options.observe)],
    }),
  );
  const service = createNodeService(host, logger);
  const calls = new CallsInFlight();
  const tracked = calls.track(service.impl);
  const onInternalError = (method: string, error: unknown): void =>
    logger.error({ method, err: error }, "internal error in a node call");
  // The gateway's Calls streams run the same (tracked) handlers, so a stop waits for them too.
  const callStreams = createCallStreamService({ impl: tracked, logger, onInternalError, observe: options.observe });
  addUnaryService(server, NodeService, tracked, onInternalError, options.observe, { calls: callStreams.handler });
  const health = new HealthReporter(NodeService.typeName, logger);
  health.addToServer(server);
  const peerIds = new Set(host.config.nodes.map((n) => n.id).filter((id) => id !== host.nodeId));
  addRaftTransportService(
    server,
    {
      nodeId: host.nodeId,
      configVersion: host.config.version,
      knownPeer: (nodeId: string) => peerIds.has(nodeId),
      // With TLS, a peer is who its certificate says; the interceptor let only node
      // certificates reach this service.
      ...(security.mode === "tls"
        ? { authenticatedNode: (call: CallWithAuth) => nodeNamed(security.callerOf(call)) }
        : {}),
      onIdentityMismatch: (certified: string) => options.onIdentityMismatch?.(certified),
      onMessages: (fromNodeId, messages) => host.deliver(fromNodeId, messages),
      beginSnapshot: (fromNodeId, shardId, message) => host.snapshots.begin(fromNodeId, shardId, message),
    },
    logger,
  );
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, security.internalServerCredentials(), (error, port) =>
      error ? reject(new Error(describeBindError(error))) : resolve(port),
    ),
  );
  const updateHealth = (): void => health.set(...describeHealth(host.healthProblems()));
  updateHealth();
  const healthTimer = setInterval(updateHealth, options.healthIntervalMs ?? nodeHealthIntervalMs);
  healthTimer.unref(); // never what keeps a process alive
  let stopping: Promise<void> | undefined;
  const stop = async (graceMs: number): Promise<void> => {
    clearInterval(healthTimer);
    health.set(false, "shutting down");
    // The peer streams stay up while leadership moves: the followers need the appends and the
    // TimeoutNow. Calls keep coming in meanwhile and get NOT_LEADER or are forwarded.
    // A zero grace is a stop at once (a start-up failure, tests that want a crash-like stop).
    const drain = graceMs > 0 ? drainLeadership(host, logger) : undefined;
    await drain?.settled;
    health.endWatches();
    server.tryShutdown(() => undefined); // refuses new calls; the peers' streams keep it from finishing
    callStreams.stopAccepting(); // and on the gateways' streams, each ended once its calls are answered
    await calls.idle(graceMs);
    drain?.stop();
    await host.close();
    server.forceShutdown();
    service.close();
  };
  return {
    address,
    health,
    shutdown: (graceMs = nodeCallsGraceMs) => (stopping ??= stop(graceMs)),
  };
}

/** The node id a caller's certificate names, if it is a node's certificate. */
function nodeNamed(caller: PeerIdentity | undefined): string | undefined {
  return caller?.role === "node" ? caller.name : undefined;
}

function describeHealth(problems: { replaying: string[]; leaderless: string[] }): [boolean, string] {
  const { replaying, leaderless } = problems;
  if (replaying.length === 0 && leaderless.length === 0) return [true, "every replica is caught up and knows a leader"];
  const parts: string[] = [];
  if (replaying.length > 0) parts.push(`replaying: ${replaying.join(", ")}`);
  if (leaderless.length > 0) parts.push(`no leader: ${leaderless.join(", ")}`);
  return [false, parts.join("; ")];
}

/** Counts the calls being handled, unary or on a gateway's Calls stream, so a stop can wait for them (peer streams are not counted). */
class CallsInFlight {
  private count = 0;
  private readonly waiters = new Set<() => void>();

  track<I extends object>(impl: I): I {
    const tracked: Record<string, unknown> = {};
    for (const [name, handler] of Object.entries(impl) as [
      string,
      (request: unknown, ctx: HandlerContext) => Promise<unknown>,
    ][]) {
      tracked[name] = async (request: unknown, ctx: HandlerContext) => {
        this.count++;
        try {
          return await handler(request, ctx);
        } finally {
          this.count--;
          if (this.count === 0) for (const wake of this.waiters) wake();
        }
      };
    }
    return tracked as I;
  }

  /** Resolves when no call is in flight, or after `maxMs`. */
  idle(maxMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.waiters.add(done);
    });
  }
}
