// Three NodeHosts in the test process, each with its own LevelDB in a temp dir and its own gRPC
// server (NodeService + RaftTransportService) on a free loopback port. Hosts can be stopped and
// reopened from the same directory. Waiting is by polling replica summaries: the host exposes
// no event for "a leader was elected" or "this replica caught up". Also: account ids that route
// to a chosen shard, a funded account, replica ids by node, and unwrappers of core results.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createLogger } from "../../../src/base/logger.js";
import { shardForAccount } from "../../../src/cluster/shard-map.js";
import {
  createAccountCommand,
  createTransactionCommand,
  type NewTransaction,
} from "../../../src/gateway/core-requests.js";
import {
  generateClusterConfig,
  type ClusterConfig,
  type NodeId,
  type ShardConfig,
  type ShardId,
} from "../../../src/cluster/config.js";
import {
  CommandResultSchema,
  CommandSchema,
  type AccountRecord,
  type Command,
  type CommandResult,
  type QueryResult,
  type TransactionRecord,
} from "../../../src/gen/ledger/core/v1/core_pb.js";
import { NodeService, ProposeRequestSchema } from "../../../src/gen/ledger/node/v1/node_pb.js";
import { NodeHost, type ReplicaSummary } from "../../../src/node/node-host.js";
import { startNodeServer, type NodeServer } from "../../../src/node/node-server.js";
import { createUnaryClient, type UnaryClient } from "../../../src/transport/grpc-service.js";
import { findFreePort } from "../../support/free-port.js";
import { makeTempDir } from "../../support/temp-dirs.js";
import { initSecrets } from "../../../src/security/dev-secrets.js";
import type { CertRole } from "../../../src/security/identity.js";
import { principalPaths } from "../../../src/security/tls-files.js";
import { TlsWatcher } from "../../../src/security/tls-watcher.js";
import { insecureTransport, tlsTransport, type TransportSecurity } from "../../../src/security/transport-security.js";
import { insecureChannel } from "../../../src/transport/channel-security.js";

/** Small enough that elections (10-20 ticks) take well under a second. */
export const testTickMs = 20;
const pollIntervalMs = 25;
export const waitTimeoutMsDefault = 15_000;

export interface Member {
  nodeId: NodeId;
  address: string;
  dataDir: string;
  host: NodeHost | undefined;
  server: NodeServer | undefined;
  security?: TransportSecurity | undefined;
}

export interface InProcessClusterOptions {
  shards: number;
  tickMs?: number;
  /** Mutual TLS between the nodes and for the test's clients (an admin certificate), from a
   * secrets directory made for the cluster; plain TCP when false (the default). */
  tls?: boolean;
}

export class InProcessCluster {
  readonly members = new Map<NodeId, Member>();
  /** Errors the node loops reported as fatal; a test fails if any is recorded. */
  readonly fatalErrors: { nodeId: NodeId; error: unknown }[] = [];
  private readonly clients = new Map<NodeId, UnaryClient<typeof NodeService>>();

  private constructor(
    readonly config: ClusterConfig,
    private readonly tickMs: number,
    /** The secrets directory (TLS files of every node, "gateway" and "admin"), when TLS is on. */
    readonly secretsDir: string | undefined,
  ) {}

  /** The transport security of principal `name` ("node01", "gateway", "admin"): TLS with its
   * certificate when the cluster has TLS, else insecure. Closed by the caller. */
  async securityOf(role: CertRole, name: string): Promise<TransportSecurity> {
    if (this.secretsDir === undefined) return insecureTransport();
    const logger = createLogger({ name, level: "silent" });
    return tlsTransport(await TlsWatcher.open(principalPaths(this.secretsDir, name), { role, name }, logger));
  }

  /** A config with every node on its own free port; hosts not started yet. */
  static async create(options: InProcessClusterOptions): Promise<InProcessCluster> {
    const generated = generateClusterConfig({ nodes: 3, shards: options.shards, replicationFactor: 3, basePort: 7000 });
    const nodes = [];
    for (const n of generated.nodes) nodes.push({ id: n.id, address: `127.0.0.1:${await findFreePort()}` });
    const config: ClusterConfig = { ...generated, nodes };
    let secretsDir: string | undefined;
    if (options.tls === true) {
      secretsDir = await makeTempDir("secrets-");
      await initSecrets(secretsDir, config);
    }
    const cluster = new InProcessCluster(config, options.tickMs ?? testTickMs, secretsDir);
    for (const n of nodes)
      cluster.members.set(n.id, {
        nodeId: n.id,
        address: n.address,
        dataDir: await makeTempDir(`node-${n.id}-`),
        host: undefined,
        server: undefined,
      });
    return cluster;
  }

  /** Creates the cluster and starts all three hosts. */
  static async start(options: InProcessClusterOptions): Promise<InProcessCluster> {
    const cluster = await InProcessCluster.create(options);
    if (cluster.secretsDir !== undefined) cluster.clientSecurity = await cluster.securityOf("admin", "admin");
    await Promise.all(cluster.nodeIds.map((id) => cluster.startNode(id)));
    return cluster;
  }

  get nodeIds(): NodeId[] {
    return [...this.members.keys()];
  }

  member(nodeId: NodeId): Member {
    const m = this.members.get(nodeId);
    if (m === undefined) throw new Error(`no node ${nodeId}`);
    return m;
  }

  host(nodeId: NodeId): NodeHost {
    const h = this.member(nodeId).host;
    if (h === undefined) throw new Error(`node ${nodeId} is stopped`);
    return h;
  }

  running(): NodeId[] {
    return this.nodeIds.filter((id) => this.member(id).host !== undefined);
  }

  shard(shardId: ShardId): ShardConfig {
    const s = this.config.shards.find((x) => x.id === shardId);
    if (s === undefined) throw new Error(`no shard ${shardId}`);
    return s;
  }

  /** The node that hosts `shard.replicas[shardIndex % 3]`: the leader the node aims for. */
  preferredLeaderNode(shardId: ShardId): NodeId {
    const index = this.config.shards.findIndex((s) => s.id === shardId);
    const r = this.shard(shardId).replicas[index % 3];
    if (r === undefined) throw new Error(`shard ${shardId} has no replica ${index % 3}`);
    return r.nodeId;
  }

  async startNode(nodeId: NodeId): Promise<NodeHost> {
    const m = this.member(nodeId);
    if (m.host !== undefined) throw new Error(`node ${nodeId} is already running`);
    const logger = createLogger({ name: nodeId, level: "silent" });
    const security = await this.securityOf("node", nodeId);
    const host = await NodeHost.open({ config: this.config, nodeId, dataDir: m.dataDir, logger, security });
    let server: NodeServer;
    try {
      server = await startNodeServer(host, m.address, logger, { security });
    } catch (e) {
      await host.close();
      security.close();
      throw e;
    }
    m.security = security;
    host.start((error) => this.fatalErrors.push({ nodeId, error }), this.tickMs);
    m.host = host;
    m.server = server;
    return host;
  }

  async stopNode(nodeId: NodeId): Promise<void> {
    const m = this.member(nodeId);
    const { host, server } = m;
    const security = m.security;
    m.host = undefined;
    m.server = undefined;
    m.security = undefined;
    this.clients.get(nodeId)?.close();
    this.clients.delete(nodeId);
    if (server !== undefined) await server.shutdown(0);
    if (host !== undefined) await host.close();
    security?.close();
  }

  async restartNode(nodeId: NodeId): Promise<NodeHost> {
    await this.stopNode(nodeId);
    return this.startNode(nodeId);
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    this.clientSecurity?.close();
    await Promise.all(this.nodeIds.map((id) => this.stopNode(id)));
  }

  /** A NodeService client of one node (closed with the cluster or when the node stops). */
  client(nodeId: NodeId): UnaryClient<typeof NodeService> {
    let c = this.clients.get(nodeId);
    if (c === undefined) {
      const channel = this.clientSecurity?.channelTo({ role: "node", name: nodeId }) ?? insecureChannel;
      c = createUnaryClient(NodeService, this.member(nodeId).address, {
        defaultDeadlineMs: 5_000,
        credentials: channel.credentials,
        channel: channel.options,
      });
      this.clients.set(nodeId, c);
    }
    return c;
  }

  /** With TLS, the test's own clients call as the operator (an admin certificate). */
  private clientSecurity: TransportSecurity | undefined;

  /** Summaries of one shard's replica on every running node, by node id. */
  async shardSummaries(shardId: ShardId, includeStateHash: boolean): Promise<Map<NodeId, ReplicaSummary>> {
    const out = new Map<NodeId, ReplicaSummary>();
    for (const id of this.running()) {
      const s = (await this.host(id).replicaSummaries(includeStateHash)).find((x) => x.shardId === shardId);
      if (s !== undefined) out.set(id, s);
    }
    return out;
  }

  /**
   * Waits until every running replica of the shard agrees on one leader node that is running
   * and reports itself leader; returns that node.
   */
  async waitForLeader(shardId: ShardId, options: { timeoutMs?: number; on?: NodeId } = {}): Promise<NodeId> {
    return waitFor(`a leader of ${shardId}${options.on ? ` on ${options.on}` : ""}`, options.timeoutMs, async () => {
      const all = await this.shardSummaries(shardId, false);
      const leaders = new Set([...all.values()].map((s) => s.leaderNodeId));
      if (leaders.size !== 1) return undefined;
      const leader = [...leaders][0];
      if (leader === undefined || leader === "" || all.get(leader)?.role !== "leader") return undefined;
      if (options.on !== undefined && leader !== options.on) return undefined;
      return leader;
    });
  }

  /** Waits for a leader of every shard; returns them by shard id. */
  async waitForLeaders(options: { preferred?: boolean; timeoutMs?: number } = {}): Promise<Map<ShardId, NodeId>> {
    const out = new Map<ShardId, NodeId>();
    for (const s of this.config.shards) {
      out.set(
        s.id,
        await this.waitForLeader(s.id, {
          timeoutMs: options.timeoutMs,
          on: options.preferred ? this.preferredLeaderNode(s.id) : undefined,
        }),
      );
    }
    return out;
  }

  /**
   * Waits until every shard has a leader and the leaders have not changed for `stableMs`. Leader
   * balancing moves a leader to its shard's preferred replica at most leaderBalanceIntervalTicks
   * (30) ticks after it is possible; leaders unchanged for longer than that (1 s = 50 ticks of
   * 20 ms) stay put while no node stops, so a test can write without a transfer in its way.
   */
  async waitForStableLeaders(stableMs = 1_000, timeoutMs = waitTimeoutMsDefault): Promise<Map<ShardId, NodeId>> {
    let last = "";
    let since = Date.now();
    return waitFor(`leaders of all shards unchanged for ${stableMs} ms`, timeoutMs, async () => {
      const leaders = new Map<ShardId, NodeId>();
      for (const s of this.config.shards) {
        const all = await this.shardSummaries(s.id, false);
        const named = new Set([...all.values()].map((x) => x.leaderNodeId));
        const leader = [...named][0];
        if (named.size !== 1 || leader === undefined || leader === "" || all.get(leader)?.role !== "leader") {
          last = "";
          return undefined;
        }
        leaders.set(s.id, leader);
      }
      const key = JSON.stringify([...leaders]);
      if (key !== last) {
        last = key;
        since = Date.now();
        return undefined;
      }
      return Date.now() - since >= stableMs ? leaders : undefined;
    });
  }

  /**
   * Waits until the shard's replicas on `nodes` (default: all running) have applied at least
   * `minApplied` and all the same index, then returns their summaries with state hashes.
   */
  async waitForConvergence(
    shardId: ShardId,
    minApplied: number,
    options: { nodes?: NodeId[]; timeoutMs?: number } = {},
  ): Promise<Map<NodeId, ReplicaSummary>> {
    const nodes = options.nodes ?? this.running();
    return waitFor(
      `${shardId} replicas on ${nodes.join(",")} to apply the same index >= ${minApplied}`,
      options.timeoutMs,
      async () => {
        const all = await this.shardSummaries(shardId, true);
        const picked = nodes.map((n) => all.get(n));
        if (picked.some((s) => s === undefined || s.appliedIndex < minApplied)) return undefined;
        const applied = new Set(picked.map((s) => s?.appliedIndex));
        if (applied.size !== 1) return undefined;
        return new Map(nodes.map((n, i) => [n, picked[i] as ReplicaSummary]));
      },
    );
  }

  /** Proposes through a host's replica directly (the caller knows it leads the shard). */
  async proposeOn(
    nodeId: NodeId,
    shardId: ShardId,
    command: Command,
    deadlineMs = Date.now() + 5_000,
  ): Promise<{ result: CommandResult; index: number }> {
    const host = this.host(nodeId);
    return host.propose(host.replicaOf(shardId), toBinary(CommandSchema, command), deadlineMs);
  }

  /** Proposes through a node's NodeService; decodes the result. */
  async proposeVia(
    nodeId: NodeId,
    shardId: ShardId,
    command: Command,
    options: { hops?: number; deadlineMs?: number } = {},
  ): Promise<{ result: CommandResult; index: number }> {
    const response = await this.client(nodeId).propose(
      create(ProposeRequestSchema, { shardId, command: toBinary(CommandSchema, command), hops: options.hops ?? 0 }),
      { deadlineMs: options.deadlineMs ?? Date.now() + 5_000 },
    );
    return { result: fromBinary(CommandResultSchema, response.result), index: Number(response.index) };
  }
}

/** Polls `probe` until it returns a value; fails after the timeout naming what it waited for. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number | undefined,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const until = Date.now() + (timeoutMs ?? waitTimeoutMsDefault);
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until)
      throw new Error(`timed out after ${timeoutMs ?? waitTimeoutMsDefault} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
}

// ---- account ids that route to a chosen shard, funded accounts, and unwrappers of core results ----

/** Nanoseconds; commands carry the proposer's clock. Read once when the test file loads: a node
 * refuses a proposal whose timestamp is far from its own clock (commandTimestampBehindMsMax, ten
 * minutes, longer than any test file runs), and proposeOn skips that check. */
export const testTimestamp = BigInt(Date.now()) * 1_000_000n;

let nextCandidate = 0x1000n;

/** A fresh account id (never returned before in this process) whose shard is `shardId`. */
export function accountIn(config: ClusterConfig, shardId: ShardId): bigint {
  for (let tries = 0; tries < 100_000; tries++) {
    const id = nextCandidate++;
    if (shardForAccount(config, id).id === shardId) return id;
  }
  throw new Error(`no account id found for ${shardId}`);
}

/**
 * A new account of `shardId` with a settled deposit of `amount` (local id 1), both proposed on
 * `leader`'s replica; returns the account and the log index of the deposit.
 */
export async function fundedAccount(
  c: InProcessCluster,
  shardId: ShardId,
  leader: NodeId,
  amount = 500n,
): Promise<{ accountId: bigint; index: number }> {
  const accountId = accountIn(c.config, shardId);
  await c.proposeOn(leader, shardId, createAccountCommand(testTimestamp, accountId, ""));
  const { index } = await c.proposeOn(
    leader,
    shardId,
    createTransactionCommand(testTimestamp, {
      accountId,
      localId: 1n,
      amount,
      description: "",
      settled: true,
      requestId: "",
    }),
  );
  return { accountId, index };
}

/** The bytes of a create_transaction command (settled, no description or request id unless given), as a batch carries them. */
export function encodedTransaction(
  t: Partial<NewTransaction> & { accountId: bigint; localId: bigint; amount: bigint },
): Uint8Array {
  return toBinary(
    CommandSchema,
    createTransactionCommand(testTimestamp, { description: "", settled: true, requestId: "", ...t }),
  );
}

/** The id of the replica of `shardId` that `nodeId` hosts. */
export function replicaIdOn(c: InProcessCluster, shardId: ShardId, nodeId: NodeId): number {
  const r = c.shard(shardId).replicas.find((x) => x.nodeId === nodeId);
  if (r === undefined) throw new Error(`${nodeId} hosts no replica of ${shardId}`);
  return r.id;
}

export function accountOfResult(r: CommandResult | QueryResult): AccountRecord {
  if (r.kind.case !== "account")
    throw new Error(
      `expected an account, got ${r.kind.case}: ${JSON.stringify(r.kind.value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`,
    );
  return r.kind.value;
}

export function transactionOfResult(r: CommandResult | QueryResult): TransactionRecord {
  if (r.kind.case !== "transaction") throw new Error(`expected a transaction, got ${r.kind.case}`);
  return r.kind.value;
}
