// One whole-cluster simulation run, all drawn from its seed: three real NodeHosts (real ledger
// core, storage code, proposal and read paths) on simulated disks, a simulated network and one
// virtual clock; the gateway's real ClusterBackend and the public LedgerService handlers in
// front; the fault runs' workload and nemesis-style faults. Then everything heals, the final
// state is read, and the history goes through the fault runs' checkers (per-account
// linearizability, conservation, no overdraft, convergence). The run also fails if the cluster
// does not recover after healing, or if a node broke a rule of the simulated world (it went on
// after a failed write, or a handler threw something other than a LedgerError).

import { createHash } from "node:crypto";
import { createLogger } from "../../src/base/logger.js";
import { generateClusterConfig, type NodeId } from "../../src/cluster/config.js";
import type { Transaction } from "../../src/gen/ledger/v1/ledger_pb.js";
import { ClusterBackend } from "../../src/gateway/cluster-backend.js";
import { createLedgerService } from "../../src/gateway/ledger-service.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import { checkRun, describeRunVerdict, type RunVerdict } from "../faults/checkers/check-run.js";
import { gatewayTransactionIdOf } from "../faults/checkers/gateway-ids.js";
import { describeOp, type FinalAccountState, type ReplicaPosition } from "../faults/history.js";
import { Workload } from "../faults/workload.js";
import { ServiceClient } from "./service-client.js";
import { SimDisk, simulatedIoError } from "./sim-disk.js";
import { SimNemesis } from "./sim-nemesis.js";
import { sendRogueProposal } from "./rogue-proposals.js";
import { SimNetwork, type NetworkProfile } from "./sim-network.js";
import { SimNode, type LogLevel } from "./sim-node.js";
import { ReplicaReader } from "./replica-reader.js";
import { SimWorld } from "./world.js";

export interface ClusterSimOptions {
  seed: number;
  /** Breaks the simulated world on purpose, to show the checks catch it: "fsync-lies" makes a
   * sync a no-op (a crash may lose acknowledged writes). */
  sabotage?: "fsync-lies";
  /** Virtual milliseconds of workload under faults (chaosMsDefault by default). */
  chaosMs?: number;
  /** Every trace line as it happens (otherwise kept for a failure's report). */
  onTrace?: (line: string) => void;
  /** The nodes' log level ("silent" by default). */
  nodeLogLevel?: LogLevel;
}

export interface ClusterSimResult {
  seed: number;
  passed: boolean;
  /** Why the run failed, in a line or a few. */
  failure?: string;
  shards: number;
  operations: { ok: number; failed: number; unknown: number };
  faults: string;
  /** Membership changes (demotions to learner, promotions back) applied during the chaos. */
  membershipChangesApplied: number;
  /** Storage faults and crashes, network counters. */
  stats: string;
  checks?: RunVerdict;
  virtualMs: number;
  events: number;
  /** A digest of the whole trace, the history and the event count: equal for a replay. */
  traceHash: string;
  /** The last lines of the run's trace (faults, crashes, restarts). */
  traceTail: string[];
}

export const chaosMsDefault = 15_000;
/** How long a healed cluster may take to elect, catch up and converge (virtual time). */
const recoveryMsMax = 60_000;
const callTimeoutMs = 3_000;
/** Virtual time of the healthy stretch after recovery. */
const healthyMs = 2_000;
/** Clients pause up to this long between calls: enough calls to overlap every fault, few
 * enough that a run stays cheap. */
const thinkMsMax = 20;
const tickMs = 100;
/** Readers that send linearizable reads to random replicas. */
const readersMax = 3;
const traceLinesKept = 40;

export async function runClusterSimulation(o: ClusterSimOptions): Promise<ClusterSimResult> {
  const world = new SimWorld(o.seed);
  const r = world.random;
  const trace: string[] = [];
  const traceHash = createHash("sha256");
  const log = (line: string): void => {
    const stamped = `${((world.now - world.nowAtStart) / 1000).toFixed(3)}s ${line}`;
    traceHash.update(`${stamped}\n`);
    trace.push(stamped);
    if (trace.length > traceLinesKept * 4) trace.splice(0, trace.length - traceLinesKept);
    o.onTrace?.(stamped);
  };
  const violations: string[] = [];
  const violation = (what: string): void => {
    violations.push(what);
    log(`VIOLATION: ${what}`);
  };

  // The run's shape, from its seed.
  const shards = 1 + r.intBelow(3);
  const config = generateClusterConfig({ nodes: 3, shards, replicationFactor: 3, basePort: 7000 });
  const calm: NetworkProfile = {
    latencyMs: 0.1 + r.float() * 2,
    jitterMs: r.intBelow(2) === 0 ? 0 : r.float() * 3,
    loss: r.intBelow(2) === 0 ? 0 : r.float() * 0.02,
    duplication: r.intBelow(2) === 0 ? 0 : r.float() * 0.02,
  };
  const writeFailure = r.intBelow(4) === 0 ? 0.001 + r.float() * 0.004 : 0;
  const compactAfterEntries = 8 + r.intBelow(60);
  const clients = 2 + r.intBelow(4);
  const accounts = 2 + r.intBelow(6);
  const readerCount = 1 + r.intBelow(readersMax);
  log(
    `seed ${o.seed}: ${shards} shards, ${clients} clients, ${readerCount} replica readers, ${accounts} accounts, compact after ${compactAfterEntries}, network ${JSON.stringify(calm)}, write failure ${writeFailure.toFixed(4)}`,
  );

  const nodes = new Map<NodeId, SimNode>();
  const disks: SimDisk[] = [];
  let network: SimNetwork | undefined;
  const onFatal = (nodeId: NodeId, error: unknown): void => {
    // Only a failed write may stop a node: anything else a peer or client sent, or a state the
    // node reached, is handled without stopping.
    if (!String(error).includes(simulatedIoError)) violation(`${nodeId} stopped itself: ${String(error)}`);
    // The process exits, as cmd/node.ts does; its supervisor restarts it.
    const node = nodes.get(nodeId)!;
    node.crash();
    world.at(500 + r.intBelow(1_500), () => void node.start());
  };
  for (const n of config.nodes) {
    const disk = new SimDisk(
      world,
      `disk of ${n.id}`,
      { writeFailure, fsyncLies: o.sabotage === "fsync-lies" },
      violation,
    );
    disks.push(disk);
    nodes.set(
      n.id,
      new SimNode({
        world,
        config,
        nodeId: n.id,
        disk,
        network: () => network!,
        tickMs,
        compactAfterEntries,
        onFatal,
        trace: log,
        logLevel: o.nodeLogLevel ?? "silent",
      }),
    );
  }
  network = new SimNetwork(world, nodes, calm, violation);
  const logger = createLogger({ name: "sim-gateway", level: "silent" });
  const backend = new ClusterBackend({
    config,
    logger,
    security: insecureTransport(),
    clock: world.clockFor(world.world),
    clientFor: (nodeId) => network!.nodeClient("gateway", nodeId),
    random: () => r.float(),
  });
  const service = createLedgerService(backend, {
    now: () => BigInt(Math.floor(world.now * 1_000)) * 1_000n,
    randomU64: () => (BigInt(r.nextU32()) << 32n) | BigInt(r.nextU32()),
    logger,
  });
  const time = { nowMs: () => world.now - world.nowAtStart, sleep: (ms: number) => world.sleep(ms) };
  const workload = new Workload({
    connect: () => new ServiceClient(service, world, callTimeoutMs),
    time,
    clients,
    accounts,
    random: r,
    callTimeoutMs,
    listPageSize: 1_000,
    thinkMsMax,
  });
  network.misrouteSnapshots = r.intBelow(2) === 0;
  const appliedWatermark = new AppliedWatermark(nodes);
  // Several readers, so a follower has reads of its own in flight when it crashes.
  const readers = Array.from(
    { length: readerCount },
    (_, i) =>
      new ReplicaReader({
        world,
        network: network!,
        config,
        history: workload.history,
        client: clients + i,
        accountIds: workload.accountIds,
        nowMs: time.nowMs,
        callTimeoutMs,
        thinkMsMax,
        appliedWatermark: (shardId) => appliedWatermark.of(shardId),
        onViolation: violation,
      }),
  );
  const reader = {
    start: () => {
      for (const x of readers) x.start();
    },
    stop: () => Promise.all(readers.map((x) => x.stop())),
  };
  const nemesis = new SimNemesis(world, network, nodes, calm, 5_000, log, () =>
    sendRogueProposal(world, network!, config, violation, log),
  );

  const result = (failure: string | undefined, checks?: RunVerdict): ClusterSimResult => {
    const operations = workload.counts();
    const stats = [
      ...disks.map(
        (d) =>
          `${d.name}: ${d.stats.writes} writes, ${d.stats.syncs} syncs, ${d.stats.failures} failures, ${d.stats.crashes} crashes, ${d.stats.unsyncedLost} unsynced writes lost`,
      ),
      `network: ${JSON.stringify(network!.stats)}`,
    ].join("\n");
    for (const node of nodes.values()) node.crash(); // ends every timer: nothing runs on
    for (const [i, op] of workload.history.entries()) traceHash.update(`${describeOp(op, i)}\n`);
    traceHash.update(`${world.eventsRun} events\n`);
    const passed = failure === undefined && violations.length === 0;
    return {
      seed: o.seed,
      passed,
      ...(passed ? {} : { failure: [...violations, ...(failure ? [failure] : [])].join("\n") }),
      shards,
      operations,
      faults: [...nemesis.counts].map(([f, n]) => `${f} ${n}`).join(", "),
      membershipChangesApplied: nemesis.membershipApplied,
      stats,
      ...(checks ? { checks } : {}),
      virtualMs: world.now - world.nowAtStart,
      events: world.eventsRun,
      traceHash: traceHash.digest("hex"),
      traceTail: trace.slice(-traceLinesKept),
    };
  };

  const booted = await world.runFor(Promise.all([...nodes.values()].map((n) => n.start())), world.now + recoveryMsMax);
  if (booted === undefined) return result("the nodes did not start");
  const setUp = await world.runFor(workload.start(`sim${o.seed}`), world.now + recoveryMsMax);
  if (setUp === undefined) return result("the accounts were not created within the recovery time (no leader?)");

  reader.start();
  // Chaos: a fault now and then, the workload running throughout.
  const chaosEnd = world.now + (o.chaosMs ?? chaosMsDefault);
  const strike = (): void => {
    if (world.now >= chaosEnd) return;
    nemesis.strike();
    world.at(200 + r.intBelow(2_000), strike);
  };
  world.at(r.intBelow(1_000), strike);
  await world.runUntil(chaosEnd, () => violations.length > 0);
  if (violations.length > 0) return result(undefined);

  // Heal: the network, then every node up again; the clients finish their calls.
  nemesis.calm();
  for (const disk of disks) disk.faultsOn = false;
  for (const node of nodes.values()) if (!node.up) void node.start();
  const stopped = await world.runFor(Promise.all([workload.pause(), reader.stop()]), world.now + recoveryMsMax);
  if (stopped === undefined) return result("the clients did not finish their calls after healing");
  log(`workload stopped: ${JSON.stringify(workload.counts())}`);

  // Recovery: every replica of every shard applied everything its leader committed.
  const recovered = await world.runUntil(world.now + recoveryMsMax, () => converged(nodes));
  if (!recovered) return result(`no convergence within ${recoveryMsMax} ms of healing: ${describePositions(nodes)}`);

  // A healthy stretch (no faults, no loss): every call completes, and no node gives an answer
  // only a fault explains (a read its leader never confirmed).
  network.setProfile({ ...calm, loss: 0, duplication: 0 });
  network.healthy = true;
  const healthyFrom = workload.history.length;
  workload.resume(`sim${o.seed}h`);
  reader.start();
  await world.runUntil(world.now + healthyMs, () => violations.length > 0);
  const paused = await world.runFor(Promise.all([workload.pause(), reader.stop()]), world.now + recoveryMsMax);
  network.healthy = false;
  if (paused === undefined) return result("the clients did not finish their calls in the healthy stretch");
  const unanswered = workload.history.slice(healthyFrom).filter((op) => op.outcome === "unknown");
  if (unanswered.length > 0 || network.unhealthy.length > 0)
    return result(
      [
        ...network.unhealthy.slice(0, 5),
        ...unanswered.slice(0, 5).map((op) => `in the healthy stretch, ${op.kind} on ${op.accountId} ended ${op.code}`),
      ].join("\n"),
    );
  const settled = await world.runUntil(world.now + recoveryMsMax, () => converged(nodes));
  if (!settled) return result(`no convergence after the healthy stretch: ${describePositions(nodes)}`);

  const finalState = await world.runFor(readFinalState(service, world, workload.accountIds), world.now + recoveryMsMax);
  if (finalState === undefined) return result("the final state could not be read after healing");
  // Positions are compared as of one converged moment: a leader elected or moved meanwhile
  // appends an empty entry that the others have not applied yet.
  if (!(await world.runUntil(world.now + recoveryMsMax, () => converged(nodes))))
    return result(`no convergence after the final reads: ${describePositions(nodes)}`);
  const replicas = await world.runFor(replicaPositions(nodes), world.now + recoveryMsMax);
  if (replicas === undefined) return result("the replicas' state hashes could not be read");

  const checks = checkRun({
    history: workload.history,
    finalState: finalState.value,
    replicas: replicas.value,
    transactionIdOf: gatewayTransactionIdOf,
    replicasPerShard: 3,
  });
  if (checks.verdict === "illegal") return result(describeRunVerdict(checks).join("\n"), checks);
  return result(undefined, checks);
}

/** Every node up, each shard led, and every replica applied through its leader's last index. */
/** The highest applied index of each shard seen on any replica: it only grows (a crashed
 * replica's applied entries were committed all the same). */
class AppliedWatermark {
  private readonly highest = new Map<string, number>();

  constructor(private readonly nodes: ReadonlyMap<NodeId, SimNode>) {}

  of(shardId: string): number {
    let w = this.highest.get(shardId) ?? 0;
    for (const node of this.nodes.values()) {
      const replica = node.host?.replicas.get(shardId);
      if (replica !== undefined) w = Math.max(w, replica.applied);
    }
    this.highest.set(shardId, w);
    return w;
  }
}

function converged(nodes: ReadonlyMap<NodeId, SimNode>): boolean {
  const hosts = [...nodes.values()].map((n) => n.host);
  if (hosts.some((h) => h === undefined)) return false;
  const shardIds = [...hosts[0]!.replicas.keys()];
  return shardIds.every((shardId) => {
    const replicas = hosts.map((h) => h!.replicaOf(shardId));
    const leader = replicas.find((rep) => rep.isLeader);
    if (leader === undefined) return false;
    const last = leader.log.lastIndex();
    return leader.log.hardState().commit === last && replicas.every((rep) => rep.applied === last);
  });
}

function describePositions(nodes: ReadonlyMap<NodeId, SimNode>): string {
  const parts: string[] = [];
  for (const node of nodes.values()) {
    const h = node.host;
    if (h === undefined) {
      parts.push(`${node.nodeId} down`);
      continue;
    }
    for (const [shardId, rep] of h.replicas)
      parts.push(
        `${node.nodeId}/${shardId} ${rep.isLeader ? "leader" : "follower"} applied ${rep.applied} commit ${rep.log.hardState().commit} last ${rep.log.lastIndex()}`,
      );
  }
  return parts.join("; ");
}

async function readFinalState(
  service: ReturnType<typeof createLedgerService>,
  world: SimWorld,
  accountIds: readonly string[],
): Promise<Map<string, FinalAccountState>> {
  const client = new ServiceClient(service, world, 30_000);
  const state = new Map<string, FinalAccountState>();
  for (const id of accountIds) {
    const transactions: Transaction[] = [];
    let pageToken = "";
    do {
      const page = await client.listTransactions({ accountId: id, pageSize: 1_000, pageToken });
      transactions.push(...page.transactions);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    state.set(id, { account: await client.getAccount(id), transactions });
  }
  return state;
}

async function replicaPositions(nodes: ReadonlyMap<NodeId, SimNode>): Promise<Map<string, ReplicaPosition[]>> {
  const byShard = new Map<string, ReplicaPosition[]>();
  for (const node of nodes.values()) {
    for (const s of await node.host!.replicaSummaries(true)) {
      const list = byShard.get(s.shardId) ?? [];
      list.push({
        node: node.nodeId,
        appliedIndex: BigInt(s.appliedIndex),
        stateHash: Buffer.from(s.stateHash ?? new Uint8Array(0)).toString("hex"),
      });
      byShard.set(s.shardId, list);
    }
  }
  return byShard;
}
