// The node's internal NodeService: propose and read addressed to a shard, plus admin calls.
// A follower forwards a proposal to its leader at most nodeForwardHopsMax times; otherwise it
// answers NOT_LEADER with the leader's node id (details.leader) for the caller to follow.

import { create } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { LedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import { pageSizeMax } from "../ledger/limits.js";
import { nodeForwardHopsMax, nodePendingProposalsMax, proposalEntryBytesMax } from "./limits.js";
import { nodeCallDeadlineMsDefault } from "../transport/limits.js";
import type { NodeId } from "../cluster/config.js";
import {
  CommandSchema,
  QueryResultSchema,
  QuerySchema,
  CommandResultSchema,
  type Command,
  type Query,
} from "../gen/ledger/core/v1/core_pb.js";
import type { Replica } from "./replica.js";
import {
  NodeService,
  ProposeResponseSchema,
  ReadConsistency,
  ReadResponseSchema,
  ReplicaRole,
  ReplicaStateSchema,
  ReplicaStatesResponseSchema,
  TransferLeadershipResponseSchema,
  TriggerSnapshotResponseSchema,
} from "../gen/ledger/node/v1/node_pb.js";
import type { Role } from "../raft/index.js";
import { createUnaryClient, type HandlerContext, type UnaryClient, type UnaryImpl } from "../transport/grpc-service.js";
import type { NodeHost } from "./node-host.js";
import { notApplied } from "./waiters.js";
import { batchProposalBytes } from "./proposal-envelope.js";
import { commandRefusal, timestampRefusal } from "../ledger/command-rules.js";
import { checkWire } from "../transport/wire-check.js";
import { quote } from "../base/quote.js";

const roles: Record<Role, ReplicaRole> = {
  follower: ReplicaRole.FOLLOWER,
  "pre-candidate": ReplicaRole.PRE_CANDIDATE,
  candidate: ReplicaRole.CANDIDATE,
  leader: ReplicaRole.LEADER,
};

/** Where a follower forwards a proposal: the leader node's NodeService. */
export type ForwardClient = Pick<UnaryClient<typeof NodeService>, "propose">;

export interface NodeServiceOptions {
  /** The NodeService of node `nodeId`: gRPC over TLS checking it is that node by default; the
   * simulator's network. */
  forwardTo?: (nodeId: NodeId) => ForwardClient;
}

export function createNodeService(
  host: NodeHost,
  logger: Logger,
  options: NodeServiceOptions = {},
): { impl: UnaryImpl<typeof NodeService>; close(): void } {
  // Forwarded proposals go to the leader's node over TLS that checks it is that node.
  const peers = new Map<NodeId, UnaryClient<typeof NodeService>>();
  const grpcPeer = (nodeId: NodeId): ForwardClient => {
    let c = peers.get(nodeId);
    if (c === undefined) {
      const address = host.config.nodes.find((n) => n.id === nodeId)?.address;
      if (address === undefined) throw new LedgerError("INTERNAL", `no address for node ${nodeId}`);
      const channel = host.security.channelTo({ role: "node", name: nodeId });
      c = createUnaryClient(NodeService, address, {
        defaultDeadlineMs: nodeCallDeadlineMsDefault,
        credentials: channel.credentials,
        channel: channel.options,
      });
      peers.set(nodeId, c);
    }
    return c;
  };
  const peer = options.forwardTo ?? grpcPeer;
  const deadlineOf = (ctx: HandlerContext) => ctx.deadlineMs ?? host.clock.nowMs() + nodeCallDeadlineMsDefault;

  const impl: UnaryImpl<typeof NodeService> = {
    async propose(req, ctx) {
      const replica = host.replicaOf(req.shardId);
      const batch = checkProposal(replica, req.command, req.commands, host.clock.nowMs());
      if (!replica.isLeader) {
        const leaderNode = host.nodeOfReplica.get(replica.leader);
        if (leaderNode === undefined)
          throw notApplied(
            "UNAVAILABLE",
            `${req.shardId}: no leader known on node ${host.nodeId} (election in progress or no quorum); not applied, retry`,
          );
        if (req.hops >= nodeForwardHopsMax) {
          throw notApplied(
            "NOT_LEADER",
            `${req.shardId}: node ${host.nodeId} is not the leader; the leader is ${leaderNode}`,
            { leader: leaderNode },
          );
        }
        logger.debug({ shard: req.shardId, to: leaderNode }, "forwarding a proposal to the leader");
        return peer(leaderNode).propose(
          { ...req, hops: req.hops + 1 },
          { deadlineMs: deadlineOf(ctx), signal: ctx.signal },
        );
      }
      if (batch) {
        const { results, index } = await host.proposeBatch(replica, req.commands, deadlineOf(ctx));
        // A command this shard refused at apply (it cannot happen to a command checked above)
        // has no CommandResult: it is answered with empty bytes, which decode to no kind.
        const encoded = results.map((r) =>
          r instanceof LedgerError ? new Uint8Array(0) : toBinary(CommandResultSchema, r),
        );
        return create(ProposeResponseSchema, { results: encoded, index: BigInt(index), leaderNodeId: host.nodeId });
      }
      const { result, index } = await host.propose(replica, req.command, deadlineOf(ctx));
      return create(ProposeResponseSchema, {
        result: toBinary(CommandResultSchema, result),
        index: BigInt(index),
        leaderNodeId: host.nodeId,
      });
    },

    async read(req, ctx) {
      const replica = host.replicaOf(req.shardId);
      let query: Query;
      const problem = checkWire(QuerySchema, req.query);
      if (problem !== undefined)
        throw new LedgerError("INVALID_ARGUMENT", `query is not a valid ledger.core.v1.Query: ${problem}`);
      try {
        query = fromBinary(QuerySchema, req.query);
      } catch (e) {
        throw new LedgerError("INVALID_ARGUMENT", `query is not a valid ledger.core.v1.Query: ${quote(String(e))}`);
      }
      if (query.kind.case === undefined)
        throw new LedgerError(
          "INVALID_ARGUMENT",
          "query must set one of get_account, get_transaction, list_transactions",
        );
      if (!replica.ownsAccount(query.kind.value.accountId))
        throw new LedgerError("INVALID_ARGUMENT", `query's account belongs to another shard than ${req.shardId}`);
      if (
        query.kind.case === "listTransactions" &&
        (query.kind.value.limit < 1 || query.kind.value.limit > pageSizeMax)
      ) {
        throw new LedgerError("INVALID_ARGUMENT", `query.list_transactions.limit must be within 1..${pageSizeMax}`);
      }
      const stale = req.consistency === ReadConsistency.STALE;
      const { result, appliedIndex } = await host.read(replica, query, stale, deadlineOf(ctx));
      return create(ReadResponseSchema, {
        result: toBinary(QueryResultSchema, result),
        appliedIndex: BigInt(appliedIndex),
      });
    },

    async replicaStates(req) {
      const summaries = await host.replicaSummaries(req.includeStateHash);
      return create(ReplicaStatesResponseSchema, {
        nodeId: host.nodeId,
        replicas: summaries.map((s) =>
          create(ReplicaStateSchema, {
            shardId: s.shardId,
            replicaId: BigInt(s.replicaId),
            role: roles[s.role as Role] ?? ReplicaRole.UNSPECIFIED,
            term: BigInt(s.term),
            leaderReplicaId: BigInt(s.leaderReplicaId),
            leaderNodeId: s.leaderNodeId,
            commitIndex: BigInt(s.commitIndex),
            appliedIndex: BigInt(s.appliedIndex),
            lastIndex: BigInt(s.lastIndex),
            snapshotIndex: BigInt(s.snapshotIndex),
            caughtUp: s.caughtUp,
            stateHash: s.stateHash ?? new Uint8Array(0),
          }),
        ),
      });
    },

    async transferLeadership(req) {
      host.transferLeadership(host.replicaOf(req.shardId), req.toNodeId);
      return create(TransferLeadershipResponseSchema, {});
    },

    async triggerSnapshot(req) {
      const index = await host.triggerSnapshot(host.replicaOf(req.shardId));
      return create(TriggerSnapshotResponseSchema, { index: BigInt(index) });
    },
  };
  return {
    impl,
    close: () => {
      for (const c of peers.values()) c.close();
    },
  };
}

/**
 * Checks a proposal before it reaches the log: exactly one of command and commands is set, and
 * every command passes checkCommand (one bad command refuses the whole batch: nothing of it is
 * proposed). Returns whether it is a batch.
 */
function checkProposal(replica: Replica, command: Uint8Array, commands: readonly Uint8Array[], nowMs: number): boolean {
  // One reading of the clock for the whole proposal (Unix ns, as commands carry it).
  const nowNs = BigInt(Math.floor(nowMs)) * 1_000_000n;
  const single = command.length > 0;
  const batch = commands.length > 0;
  if (single === batch) {
    throw notApplied(
      "INVALID_ARGUMENT",
      single ? "command and commands are both set; set exactly one" : "command or commands must be set (exactly one)",
    );
  }
  if (single) {
    checkCommand(replica, command, "command", nowNs);
    return false;
  }
  // The bounds first, from the lengths alone: decoding every command of an oversized batch (a
  // broken gateway's hundreds of thousands of tiny ones) would hold the event loop before the
  // refusal. The host checks them again when it queues the proposal.
  if (commands.length > nodePendingProposalsMax) {
    throw notApplied(
      "INVALID_ARGUMENT",
      `a batch of ${commands.length} commands exceeds nodePendingProposalsMax (${nodePendingProposalsMax}): send fewer commands per batch`,
    );
  }
  const bytes = batchProposalBytes(commands);
  if (bytes > proposalEntryBytesMax) {
    throw notApplied(
      "INVALID_ARGUMENT",
      `the proposal's log entry would be ${bytes} bytes; at most ${proposalEntryBytesMax} (proposalEntryBytesMax) are allowed: send fewer commands per batch`,
    );
  }
  for (const [i, c] of commands.entries()) checkCommand(replica, c, `commands[${i}]`, nowNs);
  return true;
}

/**
 * Refuses, before it reaches the log, a command that every replica would have to skip (one that
 * does not decode, sets no kind, or belongs to another shard: the replicas skip such entries
 * deterministically too, as a second line of defence), and one the public API would refuse
 * (the ledger's command rules, the same functions the gateway validates with), and one whose
 * timestamp is far from this node's clock `nowNs`. The internal path thus never stores what the
 * public path refuses. Each refusal names the field, e.g. `commands[3].timestamp ...`.
 */
function checkCommand(replica: Replica, bytes: Uint8Array, field: string, nowNs: bigint): void {
  if (bytes.length === 0) throw notApplied("INVALID_ARGUMENT", `${field} must not be empty`);
  // Strictly: protobuf-es alone reads a field sent with the wrong wire type as if it were right.
  const problem = checkWire(CommandSchema, bytes);
  if (problem !== undefined)
    throw notApplied("INVALID_ARGUMENT", `${field} is not a valid ledger.core.v1.Command: ${problem}`);
  let command: Command;
  try {
    command = fromBinary(CommandSchema, bytes);
  } catch (e) {
    throw notApplied("INVALID_ARGUMENT", `${field} is not a valid ledger.core.v1.Command: ${quote(String(e))}`);
  }
  const refusal =
    replica.refusal(command, field) ??
    commandRefusal(command, field) ??
    timestampRefusal(command.timestamp, nowNs, `${field}.timestamp`);
  if (refusal !== undefined) throw notApplied("INVALID_ARGUMENT", refusal);
}
