// The gateway's unary channels to the nodes' NodeService for admin calls (the status page's
// ReplicaStates, the AdminService's leadership transfers and snapshots), one per node, opened
// on first use over the gateway's TLS channel to that node.

import { LedgerError } from "../base/errors.js";
import { gatewayReconnectBackoffInitialMs, gatewayReconnectBackoffMaxMs } from "./limits.js";
import type { ClusterConfig, NodeId } from "../cluster/config.js";
import { NodeService } from "../gen/ledger/node/v1/node_pb.js";
import type { ChannelSecurity } from "../transport/channel-security.js";
import { createUnaryClient, type UnaryClient } from "../transport/grpc-service.js";

export type NodeAdminClient = UnaryClient<typeof NodeService>;

export class NodeAdminClients {
  private readonly clients = new Map<NodeId, NodeAdminClient>();
  private closed = false;

  constructor(
    private readonly config: ClusterConfig,
    private readonly channelTo: (nodeId: NodeId) => ChannelSecurity,
    private readonly defaultDeadlineMs: number,
  ) {}

  /** The client of node `nodeId` (which must be in the config). */
  of(nodeId: NodeId): NodeAdminClient {
    if (this.closed) throw new LedgerError("UNAVAILABLE", "the gateway is shutting down");
    let client = this.clients.get(nodeId);
    if (client !== undefined) return client;
    const node = this.config.nodes.find((n) => n.id === nodeId);
    if (node === undefined) throw new LedgerError("INTERNAL", `node ${nodeId} is not in the cluster config`);
    const security = this.channelTo(nodeId);
    client = createUnaryClient(NodeService, node.address, {
      defaultDeadlineMs: this.defaultDeadlineMs,
      credentials: security.credentials,
      // A restarted node should be reachable again within a second or two, not after grpc-js's
      // default reconnect backoff of up to two minutes.
      channel: {
        ...security.options,
        "grpc.initial_reconnect_backoff_ms": gatewayReconnectBackoffInitialMs,
        "grpc.max_reconnect_backoff_ms": gatewayReconnectBackoffMaxMs,
      },
    });
    this.clients.set(nodeId, client);
    return client;
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
