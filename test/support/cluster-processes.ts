// Real-process clusters for end-to-end tests: a temp cluster_config.json on free loopback ports,
// node and gateway processes started and stopped by pid, admin clients per node, and waits on
// cluster-wide conditions (leaders agreed, replicas converged). Those conditions have no event
// a test could await, so the waits poll the nodes' admin API at a short interval with a bound.
// Every failure message carries the last lines of every process this cluster started, so a CI
// failure can be diagnosed from the log alone.

import { afterAll, beforeAll } from "vitest";
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TcpProxy } from "./tcp-proxy.js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  formatClusterConfig,
  generateClusterConfig,
  parseClusterConfig,
  type ClusterConfig,
  type NodeId,
  type ShardConfig,
  type ShardId,
} from "../../src/cluster/config.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import {
  NodeService,
  ProposeRequestSchema,
  ReadConsistency,
  ReadRequestSchema,
  ReplicaRole,
  ReplicaStatesRequestSchema,
  TriggerSnapshotRequestSchema,
  type ProposeResponse,
  type ReadResponse,
  type ReplicaState,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import {
  CommandResultSchema,
  CommandSchema,
  QueryResultSchema,
  QuerySchema,
  type Command,
  type CommandResult,
  type Query,
  type QueryResult,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { createUnaryClient, type UnaryClient } from "../../src/transport/grpc-service.js";
import { LedgerClient, type ConnectOptions } from "../../src/client/index.js";
import { createLogger } from "../../src/base/logger.js";
import { principalPaths } from "../../src/security/tls-files.js";
import { makeTestSecrets, type TestSecrets } from "./test-secrets.js";
import { TlsWatcher } from "../../src/security/tls-watcher.js";
import { tlsTransport, type TransportSecurity } from "../../src/security/transport-security.js";
import { insecureChannel } from "../../src/transport/channel-security.js";
import { accountIdFromRequestId } from "../../src/gateway/request-ids.js";
import { describeExit, startTsProcess, type Exit, type TestProcess } from "./processes.js";
import { findFreePort } from "./free-port.js";
import { makeTempDir } from "./temp-dirs.js";

/** How long a node or gateway may take to log "listening": tsx start-up of several processes
 * at once on a busy 2-core machine takes seconds. */
export const processStartMsMax = 45_000;
/** Interval between polls of the admin API while waiting for a cluster-wide condition. */
export const adminPollIntervalMs = 100;
/** Deadline of one admin call: a live node on loopback answers in milliseconds. */
export const adminCallDeadlineMs = 2_000;
export const waitForLeadersMsDefault = 20_000;
export const waitForConvergenceMsDefault = 30_000;
/** Output lines per stream and process in failure reports. */
export const reportLinesDefault = 40;

/** Admin clients reconnect quickly to a restarted node instead of backing off for minutes. */
const adminChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 500,
};

export interface StartClusterOptions {
  shards: number;
  /** 3 unless told otherwise; every shard has min(3, nodes) replicas. */
  nodes?: number;
  /** Start the gateway too (default true). */
  gateway?: boolean;
  /** The processes' --log-level (default "info"). */
  logLevel?: string;
  /** Give every node and the gateway an HTTP port (--metrics-port) on a free port (default false);
   * `httpAddress(name)` tells where. */
  http?: boolean;
  /** Route every node-to-node connection through a TcpProxy the test controls (default false):
   * node A dials node B at the proxy `link(A, B)`. The gateway dials the nodes directly. */
  proxies?: boolean;
  /** Extra flags for every node process (e.g. ["--compact-after-entries", "200"]). */
  nodeArgs?: string[];
  /** Run every process with --insecure (default false: TLS and API keys, from a secrets
   * directory made for this cluster, as `npm start` runs them). */
  insecure?: boolean;
}

/** How the harness itself calls a cluster: its secrets, and the operator's transport for the
 * nodes' admin API; undefined with --insecure. */
export interface ClusterSecrets extends TestSecrets {
  operator: TransportSecurity;
}

async function makeSecrets(dir: string, config: ClusterConfig): Promise<ClusterSecrets> {
  const secrets = await makeTestSecrets(config.nodes, join(dir, "secrets"));
  const operator = tlsTransport(
    await TlsWatcher.open(
      principalPaths(secrets.dir, "admin"),
      { role: "admin" },
      createLogger({ name: "test-operator", level: "silent" }),
    ),
  );
  return { ...secrets, operator };
}

/** Generates a config and gives each node its own free loopback port. */
async function configOnFreePorts(nodes: number, shards: number): Promise<ClusterConfig> {
  const generated = generateClusterConfig({ nodes, shards, replicationFactor: Math.min(3, nodes), basePort: 7000 });
  const ports = new Set<number>();
  while (ports.size < nodes) ports.add(await findFreePort());
  const free = [...ports];
  const withPorts = { ...generated, nodes: generated.nodes.map((n, i) => ({ ...n, address: `127.0.0.1:${free[i]}` })) };
  return parseClusterConfig(withPorts, "test cluster config");
}

/** Starts the nodes (and by default the gateway) of a new cluster in a new temp dir. */
export async function startCluster(options: StartClusterOptions): Promise<TestCluster> {
  const dir = await makeTempDir("ledger-cluster-");
  const config = await configOnFreePorts(options.nodes ?? 3, options.shards);
  const configPath = join(dir, "cluster_config.json");
  await writeFile(configPath, formatClusterConfig(config));
  let cluster: TestCluster | undefined;
  try {
    const secrets = options.insecure === true ? undefined : await makeSecrets(dir, config);
    const c = new TestCluster(
      dir,
      configPath,
      config,
      options.logLevel ?? "info",
      options.http ?? false,
      options.nodeArgs ?? [],
      secrets,
    );
    cluster = c;
    if (options.proxies ?? false) await c.addProxies();
    await Promise.all(config.nodes.map((n) => c.startNode(n.id)));
    if (options.gateway ?? true) await c.startGateway();
    return c;
  } catch (e) {
    if (cluster !== undefined) await cluster.stop();
    else await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

export type Probe<T> = { done: true; value: T } | { done: false; why: string };

export class TestCluster {
  /** Every process this cluster started, in start order (earlier incarnations included). */
  private readonly started: TestProcess[] = [];
  private readonly nodes = new Map<NodeId, TestProcess>();
  private readonly admins = new Map<NodeId, UnaryClient<typeof NodeService>>();
  private readonly clients: LedgerClient[] = [];
  private readonly incarnations = new Map<string, number>();
  /** Processes the harness asked to stop; any other exit is a crash that fails every wait. */
  private readonly stopRequested = new Set<TestProcess>();
  readonly crashes: string[] = [];
  private gateway: { process: TestProcess; address: string } | undefined;
  /** "from>to" -> the proxy node `from` dials node `to` through (when started with proxies). */
  private readonly links = new Map<string, TcpProxy>();
  /** A node's own config file, when its peers' addresses are proxies. */
  private readonly nodeConfigPaths = new Map<NodeId, string>();
  /** Process name ("node01", "gateway") -> host:port of its HTTP port, while it runs. */
  private readonly httpAddresses = new Map<string, string>();

  constructor(
    readonly dir: string,
    readonly configPath: string,
    readonly config: ClusterConfig,
    private readonly logLevel: string,
    private readonly http = false,
    private readonly nodeArgs: string[] = [],
    /** Undefined when the cluster runs with --insecure. */
    readonly secrets: ClusterSecrets | undefined = undefined,
  ) {}

  /** The security flags every process of this cluster runs with. */
  private securityArgs(): string[] {
    return this.secrets === undefined ? ["--insecure"] : this.secrets.args;
  }

  /** Options for a LedgerClient of this cluster's gateway: TLS trusting the cluster CA, with
   * `apiKey` (the admin key by default). */
  clientSecurity(apiKey?: string): Pick<ConnectOptions, "tls" | "apiKey"> {
    return this.secrets === undefined ? { tls: "insecure" } : this.secrets.client(apiKey);
  }

  /** host:port of the running process's HTTP port (metrics; the status page on the gateway). */
  httpAddress(name: NodeId | "gateway"): string {
    const address = this.httpAddresses.get(name);
    if (address === undefined)
      throw new Error(`${name} is not running with an HTTP port (start the cluster with { http: true })`);
    return address;
  }

  /** One proxy per ordered pair of nodes, and per node a config naming its peers by proxy. */
  async addProxies(): Promise<void> {
    for (const self of this.config.nodes) {
      const nodes = [];
      for (const peer of this.config.nodes) {
        if (peer.id === self.id) {
          nodes.push(peer);
          continue;
        }
        const proxy = await TcpProxy.start(peer.address);
        this.links.set(`${self.id}>${peer.id}`, proxy);
        nodes.push({ ...peer, address: proxy.address });
      }
      const path = join(this.dir, `cluster_config.${self.id}.json`);
      await writeFile(path, formatClusterConfig(parseClusterConfig({ ...this.config, nodes }, path)));
      this.nodeConfigPaths.set(self.id, path);
    }
  }

  /** The proxy node `from` dials node `to` through. */
  link(from: NodeId, to: NodeId): TcpProxy {
    const proxy = this.links.get(`${from}>${to}`);
    if (proxy === undefined) throw new Error(`no proxy ${from} -> ${to} (start the cluster with { proxies: true })`);
    return proxy;
  }

  /** Every proxy, for fault summaries. */
  allLinks(): { from: NodeId; to: NodeId; proxy: TcpProxy }[] {
    return [...this.links].map(([key, proxy]) => {
      const [from, to] = key.split(">") as [NodeId, NodeId];
      return { from, to, proxy };
    });
  }

  private async httpArgs(): Promise<string[]> {
    return this.http ? ["--metrics-port", String(await findFreePort())] : [];
  }

  private noteHttp(name: string, listening: Record<string, unknown>, key: string): void {
    const address = listening[key];
    if (typeof address === "string") this.httpAddresses.set(name, address);
    else this.httpAddresses.delete(name);
  }

  get nodeIds(): NodeId[] {
    return this.config.nodes.map((n) => n.id);
  }

  get liveNodeIds(): NodeId[] {
    return this.nodeIds.filter((id) => this.nodes.has(id));
  }

  get shardIds(): ShardId[] {
    return this.config.shards.map((s) => s.id);
  }

  shard(shardId: ShardId): ShardConfig {
    const shard = this.config.shards.find((s) => s.id === shardId);
    if (!shard) throw new Error(`no shard ${shardId} in the test cluster config`);
    return shard;
  }

  addressOf(nodeId: NodeId): string {
    const node = this.config.nodes.find((n) => n.id === nodeId);
    if (!node) throw new Error(`no node ${nodeId} in the test cluster config`);
    return node.address;
  }

  get gatewayAddress(): string {
    if (!this.gateway) throw new Error("the gateway is not running");
    return this.gateway.address;
  }

  /** The node's running process, if any (for signals the harness has no verb for, e.g. SIGSTOP). */
  nodeProcess(nodeId: NodeId): TestProcess | undefined {
    return this.nodes.get(nodeId);
  }

  /** Starts the node's process and resolves once it logs "listening". */
  async startNode(nodeId: NodeId): Promise<TestProcess> {
    if (this.nodes.has(nodeId)) throw new Error(`${nodeId} is already running`);
    const args = [
      "--node-id",
      nodeId,
      "--cluster-config",
      this.nodeConfigPaths.get(nodeId) ?? this.configPath,
      "--data-dir",
      join(this.dir, nodeId),
      "--log-level",
      this.logLevel,
      ...this.securityArgs(),
      ...this.nodeArgs,
      ...(await this.httpArgs()),
    ];
    const proc = this.spawn(nodeId, "cmd/node.ts", args);
    this.nodes.set(nodeId, proc);
    void proc.exited.then(() => {
      if (this.nodes.get(nodeId) === proc) {
        this.nodes.delete(nodeId);
        this.httpAddresses.delete(nodeId);
      }
    });
    this.noteHttp(nodeId, await proc.waitForJson((e) => e.msg === "listening", processStartMsMax), "metrics");
    return proc;
  }

  /** Signals the node's process by pid and waits until it has exited. SIGTERM escalates to
   * SIGKILL after the stop grace period. */
  async killNode(nodeId: NodeId, signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<Exit> {
    const proc = this.nodes.get(nodeId);
    if (!proc) throw new Error(`${nodeId} is not running`);
    this.dropAdmin(nodeId);
    this.stopRequested.add(proc);
    const exit = signal === "SIGKILL" ? await proc.kill() : await proc.stop();
    this.nodes.delete(nodeId);
    return exit;
  }

  /** SIGTERM (if running), then a new process on the same data dir. */
  async restartNode(nodeId: NodeId): Promise<TestProcess> {
    if (this.nodes.has(nodeId)) await this.killNode(nodeId, "SIGTERM");
    return this.startNode(nodeId);
  }

  /** Starts the gateway, on `port` when given (a restart keeps its clients' address). */
  async startGateway(port?: number): Promise<string> {
    if (this.gateway) throw new Error("the gateway is already running");
    port ??= await findFreePort();
    const args = [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--cluster-config",
      this.configPath,
      "--log-level",
      this.logLevel,
      ...this.securityArgs(),
      ...(await this.httpArgs()),
    ];
    const proc = this.spawn("gateway", "cmd/gateway.ts", args);
    const listening = await proc.waitForJson((e) => e.msg === "listening", processStartMsMax);
    this.noteHttp("gateway", listening, "http");
    this.gateway = {
      process: proc,
      address: typeof listening.address === "string" ? listening.address : `127.0.0.1:${port}`,
    };
    return this.gateway.address;
  }

  /** Stops the gateway (SIGKILL or SIGTERM) and starts a new one on the same port. */
  async restartGateway(signal: "SIGKILL" | "SIGTERM" = "SIGTERM"): Promise<string> {
    const port = Number(this.gatewayAddress.slice(this.gatewayAddress.lastIndexOf(":") + 1));
    await this.stopGateway(signal);
    return this.startGateway(port);
  }

  async stopGateway(signal: "SIGKILL" | "SIGTERM" = "SIGTERM"): Promise<Exit> {
    const gateway = this.gateway;
    if (!gateway) throw new Error("the gateway is not running");
    this.gateway = undefined;
    this.httpAddresses.delete("gateway");
    this.stopRequested.add(gateway.process);
    return signal === "SIGKILL" ? gateway.process.kill() : gateway.process.stop();
  }

  /** A new client of the gateway; closed by stop(). */
  gatewayClient(deadlineMs = 10_000): LedgerClient {
    const client = LedgerClient.connect(this.gatewayAddress, { deadlineMs, ...this.clientSecurity() });
    this.clients.push(client);
    return client;
  }

  /** The node's admin client (NodeService), cached until the node is killed. */
  nodeAdmin(nodeId: NodeId): UnaryClient<typeof NodeService> {
    let admin = this.admins.get(nodeId);
    if (!admin) {
      const channel = this.secrets?.operator.channelTo({ role: "node", name: nodeId }) ?? insecureChannel;
      admin = createUnaryClient(NodeService, this.addressOf(nodeId), {
        defaultDeadlineMs: adminCallDeadlineMs,
        credentials: channel.credentials,
        channel: { ...channel.options, ...adminChannelOptions },
      });
      this.admins.set(nodeId, admin);
    }
    return admin;
  }

  async replicaStates(nodeId: NodeId, includeStateHash = false): Promise<ReplicaState[]> {
    const reply = await this.nodeAdmin(nodeId).replicaStates(create(ReplicaStatesRequestSchema, { includeStateHash }));
    return reply.replicas;
  }

  /** Snapshots the shard's replica on the node and compacts its log; resolves with the index. */
  async triggerSnapshot(nodeId: NodeId, shardId: ShardId): Promise<bigint> {
    return (await this.nodeAdmin(nodeId).triggerSnapshot(create(TriggerSnapshotRequestSchema, { shardId }))).index;
  }

  /** Sends an encoded ledger command to one specific node. */
  propose(nodeId: NodeId, shardId: ShardId, command: Command, deadlineMs = 10_000): Promise<ProposeResponse> {
    const request = create(ProposeRequestSchema, { shardId, command: toBinary(CommandSchema, command) });
    return this.nodeAdmin(nodeId).propose(request, { deadlineMs: Date.now() + deadlineMs });
  }

  /** Runs a ledger query on one specific node's replica. */
  read(
    nodeId: NodeId,
    shardId: ShardId,
    query: Query,
    consistency: ReadConsistency,
    deadlineMs = 10_000,
  ): Promise<ReadResponse> {
    const request = create(ReadRequestSchema, { shardId, query: toBinary(QuerySchema, query), consistency });
    return this.nodeAdmin(nodeId).read(request, { deadlineMs: Date.now() + deadlineMs });
  }

  /**
   * Waits until every shard has exactly one leader among its live replicas and every live
   * replica names that leader; resolves with shard id -> leader node id.
   */
  waitForLeaders(timeoutMs = waitForLeadersMsDefault): Promise<Map<ShardId, NodeId>> {
    return this.waitUntil("every shard has one leader agreed by all live replicas", timeoutMs, async () => {
      const states = await this.statesOfLiveNodes(false);
      if (typeof states === "string") return { done: false, why: states };
      const leaders = new Map<ShardId, NodeId>();
      for (const shard of this.config.shards) {
        const live = this.liveStatesOf(shard, states);
        if (typeof live === "string") return { done: false, why: live };
        const leading = live.filter((s) => s.role === ReplicaRole.LEADER);
        if (leading.length !== 1)
          return { done: false, why: `${shard.id} has ${leading.length} leaders: ${describeStates(live)}` };
        const leader = nodeOfReplica(shard, leading[0]!.replicaId);
        if (live.some((s) => s.leaderNodeId !== leader))
          return { done: false, why: `${shard.id}: live replicas disagree on the leader: ${describeStates(live)}` };
        leaders.set(shard.id, leader);
      }
      return { done: true, value: leaders };
    });
  }

  /** The leader of the shard once every live replica agrees on it. */
  async leaderOf(shardId: ShardId, timeoutMs = waitForLeadersMsDefault): Promise<NodeId> {
    const leader = (await this.waitForLeaders(timeoutMs)).get(shardId);
    if (leader === undefined) throw new Error(`no shard ${shardId}`);
    return leader;
  }

  /**
   * Waits until, for each given shard, all live replicas are caught up, have applied everything
   * they know committed, and agree on the commit index, the applied index and the state hash.
   * Resolves with shard id -> {applied index, state hash in hex}.
   */
  waitForConvergence(
    shardIds: ShardId[] = this.shardIds,
    timeoutMs = waitForConvergenceMsDefault,
  ): Promise<Map<ShardId, { appliedIndex: bigint; stateHash: string }>> {
    return this.waitUntil(`live replicas of ${shardIds.join(", ")} converge`, timeoutMs, async () => {
      const states = await this.statesOfLiveNodes(true);
      if (typeof states === "string") return { done: false, why: states };
      const converged = new Map<ShardId, { appliedIndex: bigint; stateHash: string }>();
      for (const shardId of shardIds) {
        const live = this.liveStatesOf(this.shard(shardId), states);
        if (typeof live === "string") return { done: false, why: live };
        const first = live[0]!;
        const hash = hex(first.stateHash);
        const same = live.every(
          (s) =>
            s.caughtUp &&
            s.appliedIndex === s.commitIndex &&
            s.appliedIndex === first.appliedIndex &&
            s.commitIndex === first.commitIndex &&
            hex(s.stateHash) === hash,
        );
        if (!same || hash === "") return { done: false, why: `${shardId}: ${describeStates(live)}` };
        converged.set(shardId, { appliedIndex: first.appliedIndex, stateHash: hash });
      }
      return { done: true, value: converged };
    });
  }

  /** The last output lines of every process this cluster started. */
  report(lines = reportLinesDefault): string {
    return this.started
      .map(
        (p) =>
          `===== ${p.name} (pid ${p.child.pid ?? "?"}, ${p.exit ? `exited: ${describeExit(p.exit)}` : "running"}) =====\n${p.report(lines)}`,
      )
      .join("\n");
  }

  /** Closes clients, stops exactly this cluster's processes by pid, removes its temp dir. */
  async stop(): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    for (const id of [...this.admins.keys()]) this.dropAdmin(id);
    this.gateway = undefined;
    for (const p of this.started) this.stopRequested.add(p);
    try {
      await Promise.all(this.started.map((p) => p.stop()));
    } finally {
      this.nodes.clear();
      await Promise.all([...this.links.values()].map((p) => p.close()));
      this.links.clear();
      this.secrets?.operator.close();
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  private spawn(label: string, file: string, args: string[]): TestProcess {
    const n = (this.incarnations.get(label) ?? 0) + 1;
    this.incarnations.set(label, n);
    const proc = startTsProcess(file, args, { name: `${label}#${n}` });
    this.started.push(proc);
    void proc.exited.then((exit) => {
      if (!this.stopRequested.has(proc)) this.crashes.push(`${proc.name} exited on its own (${describeExit(exit)})`);
    });
    return proc;
  }

  private dropAdmin(nodeId: NodeId): void {
    this.admins.get(nodeId)?.close();
    this.admins.delete(nodeId);
  }

  /** Replica states of every live node, or a string saying why they could not all be read. */
  private async statesOfLiveNodes(includeStateHash: boolean): Promise<Map<NodeId, ReplicaState[]> | string> {
    const ids = this.liveNodeIds;
    const results = await Promise.allSettled(ids.map((id) => this.replicaStates(id, includeStateHash)));
    const states = new Map<NodeId, ReplicaState[]>();
    for (const [i, r] of results.entries()) {
      if (r.status === "rejected") return `${ids[i]}: ReplicaStates failed: ${(r.reason as Error).message}`;
      states.set(ids[i]!, r.value);
    }
    return states;
  }

  private liveStatesOf(shard: ShardConfig, states: Map<NodeId, ReplicaState[]>): ReplicaState[] | string {
    const live: ReplicaState[] = [];
    for (const replica of shard.replicas) {
      const nodeStates = states.get(replica.nodeId);
      if (!nodeStates) continue;
      const state = nodeStates.find((s) => s.shardId === shard.id);
      if (!state) return `${replica.nodeId} reports no replica of ${shard.id}`;
      live.push(state);
    }
    return live.length > 0 ? live : `${shard.id} has no live replica`;
  }

  /**
   * Polls `probe` every adminPollIntervalMs until it reports done; fails after `timeoutMs` with
   * its last observation and the processes' output.
   */
  async waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<Probe<T>>): Promise<T> {
    const start = Date.now();
    for (;;) {
      if (this.crashes.length > 0) throw new Error(`${what}: ${this.crashes.join("; ")}\n${this.report()}`);
      const result = await probe();
      if (result.done) return result.value;
      if (Date.now() - start >= timeoutMs) {
        throw new Error(
          `not reached within ${timeoutMs} ms: ${what}\nlast observation: ${result.why}\n${this.report()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, adminPollIntervalMs));
    }
  }
}

/** Wraps a test body so any failure carries the cluster's process output, and fails it if a
 * process of the cluster exited during it without the harness asking. `cluster` is a getter
 * because test bodies are defined before beforeAll starts the cluster. */
export function withClusterReport(
  cluster: () => TestCluster | undefined,
  body: () => Promise<void>,
): () => Promise<void> {
  return async () => {
    const crashesBefore = cluster()?.crashes.length ?? 0;
    try {
      await body();
      const crashes = cluster()?.crashes.slice(crashesBefore) ?? [];
      // A node that dies on its own is a failure even if the test's own checks passed.
      if (crashes.length > 0) throw new Error(`processes exited on their own: ${crashes.join("; ")}`);
    } catch (e) {
      const c = cluster();
      if (e instanceof Error && c) e.message += `\n${c.report()}`;
      throw e;
    }
  };
}

function nodeOfReplica(shard: ShardConfig, replicaId: bigint): NodeId {
  const replica = shard.replicas.find((r) => BigInt(r.id) === replicaId);
  if (!replica) throw new Error(`${shard.id} has no replica ${replicaId}`);
  return replica.nodeId;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function describeStates(states: ReplicaState[]): string {
  return states
    .map(
      (s) =>
        `[replica ${s.replicaId} ${ReplicaRole[s.role]} term ${s.term} leader ${s.leaderNodeId || "-"} commit ${s.commitIndex} applied ${s.appliedIndex} last ${s.lastIndex} caughtUp ${s.caughtUp} hash ${hex(s.stateHash).slice(0, 12) || "-"}]`,
    )
    .join(" ");
}

// ---- Ledger helpers for tests that address shards directly ----

/** A request id whose derived account id lands on `shardId` (ids are hashes: search a few). */
export function requestIdOnShard(config: ClusterConfig, shardId: ShardId, prefix: string): string {
  for (let i = 0; i < 100_000; i++) {
    const requestId = `${prefix}-${i}`;
    if (shardForAccount(config, accountIdFromRequestId(requestId)).id === shardId) return requestId;
  }
  throw new Error(`no request id with prefix ${prefix} lands on ${shardId}`);
}

/** A fresh random account id owned by `shardId`. */
export function randomAccountIdOnShard(config: ClusterConfig, shardId: ShardId): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE(0);
    if (shardForAccount(config, id).id === shardId) return id;
  }
}

export function decodeCommandResult(bytes: Uint8Array): CommandResult {
  return fromBinary(CommandResultSchema, bytes);
}

export function decodeQueryResult(bytes: Uint8Array): QueryResult {
  return fromBinary(QueryResultSchema, bytes);
}

export { ReadConsistency };

/**
 * One cluster for a whole test file: started before its first test, stopped after its last.
 * `running()` returns it (or fails the test if it did not start); `reported(body)` wraps a test
 * body so a failure carries the processes' recent output.
 */
export function useCluster(options: StartClusterOptions): {
  running(): TestCluster;
  reported(body: () => Promise<void>): () => Promise<void>;
} {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(options);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    running: () => {
      if (!cluster) throw new Error("the cluster did not start");
      return cluster;
    },
    reported: (body) => withClusterReport(() => cluster, body),
  };
}
