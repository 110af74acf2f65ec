// The gateway's AdminService (proto/ledger/admin/v1/admin.proto): cluster status, leadership
// transfers and snapshots, made on the nodes with the gateway's own certificate. Callers need
// an API key of role admin (the gateway's interceptor checks it and logs every admin call).

import { create } from "@bufbuild/protobuf";
import { LedgerError } from "../base/errors.js";
import { quote } from "../base/quote.js";
import { statusNodeCallTimeoutMs } from "./limits.js";
import type { ClusterConfig, ShardConfig } from "../cluster/config.js";
import {
  type AdminService,
  ClusterStatusResponseSchema,
  NodeStatusSchema,
  TransferLeadershipResponseSchema,
  TriggerSnapshotResponseSchema,
} from "../gen/ledger/admin/v1/admin_pb.js";
import {
  ReplicaStatesRequestSchema,
  TransferLeadershipRequestSchema,
  TriggerSnapshotRequestSchema,
} from "../gen/ledger/node/v1/node_pb.js";
import { describeFailure } from "../ops/shard-view.js";
import type { HandlerContext, UnaryImpl } from "../transport/grpc-service.js";
import type { NodeAdminClients } from "./node-admin.js";

function shardOf(config: ClusterConfig, shardId: string): ShardConfig {
  const shard = config.shards.find((s) => s.id === shardId);
  if (shard === undefined)
    throw new LedgerError("INVALID_ARGUMENT", `shard_id ${quote(shardId)} is not a shard of the cluster config`);
  return shard;
}

function hostingNode(shard: ShardConfig, nodeId: string, field: string): string {
  if (!shard.replicas.some((r) => r.nodeId === nodeId)) {
    throw new LedgerError(
      "INVALID_ARGUMENT",
      `${field} ${quote(nodeId)} hosts no replica of ${shard.id} (its nodes: ${shard.replicas.map((r) => r.nodeId).join(", ")})`,
    );
  }
  return nodeId;
}

function deadlineOf(ctx: HandlerContext): number {
  return ctx.deadlineMs ?? Date.now() + statusNodeCallTimeoutMs * 5;
}

export function createAdminService(config: ClusterConfig, admin: NodeAdminClients): UnaryImpl<typeof AdminService> {
  return {
    async clusterStatus(_req, ctx) {
      // Every node at once; one that does not answer by the call's deadline is listed down.
      const deadlineMs = Math.min(deadlineOf(ctx), Date.now() + statusNodeCallTimeoutMs * 2);
      const nodes = await Promise.all(
        config.nodes.map(async (node) => {
          try {
            const reply = await admin
              .of(node.id)
              .replicaStates(create(ReplicaStatesRequestSchema, {}), { deadlineMs, signal: ctx.signal });
            return create(NodeStatusSchema, {
              nodeId: node.id,
              address: node.address,
              up: true,
              replicas: reply.replicas,
            });
          } catch (e) {
            return create(NodeStatusSchema, {
              nodeId: node.id,
              address: node.address,
              up: false,
              reason: describeFailure(e),
            });
          }
        }),
      );
      return create(ClusterStatusResponseSchema, { nodes });
    },

    async transferLeadership(req, ctx) {
      const shard = shardOf(config, req.shardId);
      const to = hostingNode(shard, req.toNodeId, "to_node_id");
      // The target's replica forwards the request to whoever leads the shard now.
      await admin
        .of(to)
        .transferLeadership(create(TransferLeadershipRequestSchema, { shardId: shard.id, toNodeId: to }), {
          deadlineMs: deadlineOf(ctx),
          signal: ctx.signal,
        });
      return create(TransferLeadershipResponseSchema, {});
    },

    async triggerSnapshot(req, ctx) {
      const shard = shardOf(config, req.shardId);
      const node = hostingNode(shard, req.nodeId, "node_id");
      const reply = await admin.of(node).triggerSnapshot(create(TriggerSnapshotRequestSchema, { shardId: shard.id }), {
        deadlineMs: deadlineOf(ctx),
        signal: ctx.signal,
      });
      return create(TriggerSnapshotResponseSchema, { index: reply.index });
    },
  };
}
