// Gathers every node's replica states for the status page and keeps the result briefly, so any
// number of open pages (each asking every second) costs each node at most one ReplicaStates call
// per statusCacheMs. One gathering runs at a time; callers that arrive meanwhile share it. Each
// node is asked in parallel with a short deadline over its own long-lived channel: a dead node
// answers fast (connection refused) or within the deadline, and is shown down with the reason.

import type { NodeAdminClients } from "../node-admin.js";
import { assert } from "../../base/assert.js";
import { create } from "@bufbuild/protobuf";
import type { Logger } from "../../base/logger.js";
import { LedgerError } from "../../base/errors.js";
import { statusCacheMs, statusNodeCallTimeoutMs } from "../limits.js";
import type { ClusterConfig, NodeConfig, NodeId } from "../../cluster/config.js";
import { ReplicaStatesRequestSchema, type ReplicaState } from "../../gen/ledger/node/v1/node_pb.js";
import { describeFailure } from "../../ops/shard-view.js";
import { assembleClusterStatus, type ClusterStatus, type NodeReport } from "../cluster-status.js";

/** Asks one node for its replicas' states; rejects when the node does not answer by deadlineMs. */
export type AskNode = (node: NodeConfig, deadlineMs: number) => Promise<readonly ReplicaState[]>;

export interface NodeStatesOptions {
  config: ClusterConfig;
  logger: Logger;
  /** How nodes are asked; by default over gRPC, one channel per node, secured by `channelTo`. */
  askNode?: AskNode;
  /** The gateway's admin channels to the nodes (required unless askNode is given). */
  admin?: NodeAdminClients;
  /** The clock (ms); Date.now by default. */
  nowMs?: () => number;
  cacheMs?: number;
  callTimeoutMs?: number;
}

export class NodeStates {
  private readonly config: ClusterConfig;
  private readonly logger: Logger;
  private readonly askNode: AskNode;
  private readonly nowMs: () => number;
  private readonly cacheMs: number;
  private readonly callTimeoutMs: number;
  private readonly admin: NodeAdminClients | undefined;
  private cached: { atMs: number; status: ClusterStatus } | undefined;
  private gathering: Promise<ClusterStatus> | undefined;
  /** Each node's last known state, so a change is logged once rather than at every refresh. */
  private readonly lastUp = new Map<NodeId, boolean>();
  private closed = false;

  constructor(options: NodeStatesOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.askNode = options.askNode ?? ((node, deadlineMs) => this.askOverGrpc(node, deadlineMs));
    this.admin = options.admin;
    assert(
      options.askNode !== undefined || options.admin !== undefined,
      "NodeStates: asking nodes over gRPC needs the admin channels",
    );
    this.nowMs = options.nowMs ?? Date.now;
    this.cacheMs = options.cacheMs ?? statusCacheMs;
    this.callTimeoutMs = options.callTimeoutMs ?? statusNodeCallTimeoutMs;
  }

  /** The cluster's status, at most cacheMs old. */
  current(): Promise<ClusterStatus> {
    if (this.closed) return Promise.reject(new LedgerError("UNAVAILABLE", "the status page is shutting down"));
    if (this.cached !== undefined && this.nowMs() - this.cached.atMs < this.cacheMs)
      return Promise.resolve(this.cached.status);
    this.gathering ??= this.gather().finally(() => {
      this.gathering = undefined;
    });
    return this.gathering;
  }

  close(): void {
    this.closed = true;
  }

  private async gather(): Promise<ClusterStatus> {
    const startedMs = this.nowMs();
    const deadlineMs = Date.now() + this.callTimeoutMs;
    const answers = await Promise.all(
      this.config.nodes.map(async (node): Promise<[NodeId, NodeReport]> => {
        try {
          return [node.id, { ok: true, replicas: await this.askNode(node, deadlineMs) }];
        } catch (e) {
          return [node.id, { ok: false, reason: describeFailure(e) }];
        }
      }),
    );
    const reports = new Map(answers);
    this.logChanges(reports);
    const status = assembleClusterStatus(this.config, reports, startedMs);
    this.cached = { atMs: startedMs, status };
    return status;
  }

  private async askOverGrpc(node: NodeConfig, deadlineMs: number): Promise<readonly ReplicaState[]> {
    if (this.closed) throw new LedgerError("UNAVAILABLE", "the status page is shutting down");
    const reply = await this.admin!.of(node.id).replicaStates(
      create(ReplicaStatesRequestSchema, { includeStateHash: false }),
      { deadlineMs },
    );
    return reply.replicas;
  }

  private logChanges(reports: ReadonlyMap<NodeId, NodeReport>): void {
    for (const [nodeId, report] of reports) {
      const before = this.lastUp.get(nodeId);
      this.lastUp.set(nodeId, report.ok);
      if (before === report.ok) continue;
      if (report.ok)
        this.logger.info(
          { nodeId },
          before === undefined ? "status page: node answers" : "status page: node answers again",
        );
      else this.logger.warn({ nodeId, reason: report.reason }, "status page: node does not answer");
    }
  }
}
