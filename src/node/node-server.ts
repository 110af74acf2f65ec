// The node's gRPC server: NodeService (propose, read, admin) and RaftTransportService (peer
// message streams and snapshot streams) on the node's address from the cluster config.

import { Server, ServerCredentials } from "@grpc/grpc-js";
import { grpcMessageBytesMax, shutdownGraceMsDefault } from "../base/limits.js";
import type { Logger } from "../base/logger.js";
import { NodeService } from "../gen/ledger/node/v1/node_pb.js";
import { describeBindError, shutdownGracefully } from "../gateway/grpc-server.js";
import { addUnaryService, type CallObserver } from "../transport/grpc-service.js";
import { addRaftTransportService } from "../transport/peer-server.js";
import type { NodeHost } from "./node-host.js";
import { createNodeService } from "./node-service.js";

export interface NodeServer {
  address: string;
  shutdown(graceMs?: number): Promise<void>;
}

export interface NodeServerOptions {
  /** Told of every finished NodeService call (metrics). */
  observe?: CallObserver;
}

export async function startNodeServer(host: NodeHost, address: string, logger: Logger, options: NodeServerOptions = {}): Promise<NodeServer> {
  // Same message limit as the peers' senders check against (grpcMessageBytesMax).
  const server = new Server({
    "grpc.max_receive_message_length": grpcMessageBytesMax,
    "grpc.max_send_message_length": grpcMessageBytesMax,
  });
  const service = createNodeService(host, logger);
  addUnaryService(server, NodeService, service.impl, (method, error) => logger.error({ method, err: error }, "internal error in a node call"), options.observe);
  const peerIds = new Set(host.config.nodes.map((n) => n.id).filter((id) => id !== host.nodeId));
  addRaftTransportService(
    server,
    {
      nodeId: host.nodeId,
      configVersion: host.config.version,
      knownPeer: (nodeId: string) => peerIds.has(nodeId),
      onMessages: (fromNodeId, messages) => host.deliver(fromNodeId, messages),
      beginSnapshot: (fromNodeId, shardId, message) => host.snapshots.begin(fromNodeId, shardId, message),
    },
    logger,
  );
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, port) => (error ? reject(new Error(describeBindError(error))) : resolve(port))),
  );
  return {
    address,
    // Stop taking calls, fail what waits on the loop (unary calls then end at once), close the
    // DB, then cut the peers' long-lived streams, which would otherwise hold a graceful shutdown
    // open until the grace period ends.
    shutdown: async (graceMs = shutdownGraceMsDefault) => {
      const graceful = shutdownGracefully(server, graceMs);
      await host.close();
      server.forceShutdown();
      await graceful;
      service.close();
    },
  };
}
