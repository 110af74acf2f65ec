// A node's /metrics against three in-process NodeHosts that report to createNodeMetrics: after
// proposals, each node's exposition shows its replicas' indexes and roles as the hosts hold them,
// proposals by outcome as the proposers heard them, and the loop's fsync, batch and apply
// histograms and NodeService calls as they happened. And a proposal refused by a node that is
// shutting down, counted as refused (the counter's help lists "shutting down" under refused).

import type { IncomingMessage } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { LedgerError, isLedgerError } from "../../src/base/errors.js";
import { generateClusterConfig, type NodeId, type ShardId } from "../../src/cluster/config.js";
import { createAccountCommand } from "../../src/gateway/core-requests.js";
import { createNodeMetrics, type NodeMetrics } from "../../src/metrics/node-metrics.js";
import { proposalOutcome } from "../../src/metrics/proposal-outcome.js";
import { NodeHost } from "../../src/node/node-host.js";
import { startNodeServer } from "../../src/node/node-server.js";
import { notApplied, outcomeUnknown } from "../../src/node/waiters.js";
import { cleanUpEverything } from "../support/cleanup.js";
import { findFreePort } from "../support/free-port.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { InProcessCluster, accountIn, testTickMs, testTimestamp } from "../node/support/in-process-cluster.js";
import { parseExposition, samplesOf, sampleValue, type Exposition } from "./exposition.js";
import { insecureTransport } from "../../src/security/transport-security.js";

/** Starts a member of the harness's cluster like its startNode does, with metrics attached. */
async function startObservedNode(cluster: InProcessCluster, nodeId: NodeId, metrics: NodeMetrics): Promise<void> {
  const m = cluster.member(nodeId);
  const logger = createLogger({ name: nodeId, level: "silent" });
  const host = await NodeHost.open({
    config: cluster.config,
    nodeId,
    security: insecureTransport(),
    dataDir: m.dataDir,
    logger,
    observer: metrics.observer,
  });
  try {
    m.server = await startNodeServer(host, m.address, logger, {
      security: insecureTransport(),
      observe: metrics.observeCall,
    });
  } catch (e) {
    await host.close();
    throw e;
  }
  metrics.attach(host);
  host.start((error) => cluster.fatalErrors.push({ nodeId, error }), testTickMs);
  m.host = host;
}

async function scrape(metrics: NodeMetrics): Promise<{ contentType: string; exposition: Exposition }> {
  const route = metrics.routes["/metrics"];
  if (route === undefined) throw new Error("no /metrics route");
  const reply = await route({} as IncomingMessage);
  expect(reply.status ?? 200).toBe(200);
  return { contentType: reply.contentType, exposition: parseExposition(String(reply.body)) };
}

/**
 * An in-process three-node cluster whose nodes report to their own NodeMetrics, started before
 * the suite's tests and closed after them; no test may leave a fatal error behind. `onStart`
 * receives the cluster; `metricsOf` gives a node's metrics, `renewMetrics` new ones for a node
 * about to restart (a restarted process starts from zero).
 */
function useObservedCluster(
  shards: number,
  onStart: (cluster: InProcessCluster) => void,
): { metricsOf: (nodeId: NodeId) => NodeMetrics; renewMetrics: (nodeId: NodeId) => NodeMetrics } {
  let cluster: InProcessCluster | undefined;
  const metrics = new Map<NodeId, NodeMetrics>();
  const metricsOf = (nodeId: NodeId): NodeMetrics => {
    const m = metrics.get(nodeId);
    if (m === undefined) throw new Error(`no metrics for ${nodeId}`);
    return m;
  };
  beforeAll(async () => {
    const started = await InProcessCluster.create({ shards });
    cluster = started;
    onStart(started);
    for (const id of started.nodeIds) metrics.set(id, createNodeMetrics(id));
    await Promise.all(started.nodeIds.map((id) => startObservedNode(started, id, metricsOf(id))));
  });
  afterEach(() => {
    expect(cluster?.fatalErrors).toEqual([]);
  });
  afterAll(async () => {
    await cluster?.close();
    await cleanUpEverything();
  });
  const renewMetrics = (nodeId: NodeId): NodeMetrics => {
    metrics.set(nodeId, createNodeMetrics(nodeId));
    return metricsOf(nodeId);
  };
  return { metricsOf, renewMetrics };
}

describe("node metrics over a running three-node cluster", () => {
  let cluster: InProcessCluster;
  const { metricsOf } = useObservedCluster(3, (c) => (cluster = c));

  it("after proposals, /metrics shows each replica's indexes and role, proposals by outcome, fsync, batch and apply histograms, and NodeService calls", async () => {
    const leaders = await cluster.waitForStableLeaders();
    const heard = new Map<NodeId, { applied: number; notLeader: number; viaService: number }>(
      cluster.nodeIds.map((id) => [id, { applied: 0, notLeader: 0, viaService: 0 }]),
    );
    const count = (nodeId: NodeId) => heard.get(nodeId) ?? { applied: 0, notLeader: 0, viaService: 0 };
    const lastIndex = new Map<ShardId, number>();

    for (const shard of cluster.config.shards) {
      const leader = leaders.get(shard.id) ?? "";
      for (let i = 0; i < 3; i++) {
        const id = accountIn(cluster.config, shard.id);
        const done = await cluster.proposeOn(
          leader,
          shard.id,
          createAccountCommand(testTimestamp, id, `metrics-${id}`),
        );
        count(leader).applied++;
        lastIndex.set(shard.id, done.index);
      }
      const id = accountIn(cluster.config, shard.id);
      const done = await cluster.proposeVia(leader, shard.id, createAccountCommand(testTimestamp, id, `metrics-${id}`));
      count(leader).applied++;
      count(leader).viaService++;
      lastIndex.set(shard.id, done.index);
      // A follower refuses a proposal outright: NOT_LEADER, certainly not applied.
      const follower = shard.replicas.map((r) => r.nodeId).find((n) => n !== leader) ?? "";
      const refused = await cluster
        .proposeOn(follower, shard.id, createAccountCommand(testTimestamp, accountIn(cluster.config, shard.id), ""))
        .catch((e: unknown) => e);
      expect(isLedgerError(refused) && refused.code).toBe("NOT_LEADER");
      count(follower).notLeader++;
    }
    for (const shard of cluster.config.shards) await cluster.waitForConvergence(shard.id, lastIndex.get(shard.id) ?? 1);

    for (const nodeId of cluster.nodeIds) {
      const host = cluster.host(nodeId);
      const { contentType, exposition: e } = await scrape(metricsOf(nodeId));
      expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(sampleValue(e, "ledger_node_info", { node: nodeId })).toBe(1);

      for (const shard of cluster.config.shards) {
        const r = host.replicaOf(shard.id);
        const status = r.raw.status();
        const s = { shard: shard.id };
        expect(sampleValue(e, "ledger_replica_applied_index", s)).toBe(r.applied);
        expect(sampleValue(e, "ledger_replica_applied_index", s)).toBeGreaterThanOrEqual(lastIndex.get(shard.id) ?? 1);
        expect(sampleValue(e, "ledger_replica_term", s)).toBe(status.hardState.term);
        expect(sampleValue(e, "ledger_replica_commit_index", s)).toBe(status.hardState.commit);
        expect(sampleValue(e, "ledger_replica_last_index", s)).toBe(r.log.lastIndex());
        expect(sampleValue(e, "ledger_replica_snapshot_index", s)).toBe(r.log.snapshotMetadata().index);
        const isLeader = leaders.get(shard.id) === nodeId;
        expect(sampleValue(e, "ledger_replica_role", { ...s, role: "leader" })).toBe(isLeader ? 1 : 0);
        expect(sampleValue(e, "ledger_replica_role", { ...s, role: "follower" })).toBe(isLeader ? 0 : 1);
        expect(samplesOf(e, "ledger_replica_role", s).reduce((sum, x) => sum + x.value, 0)).toBe(1);
        // Every replica has seen a leader since it started.
        expect(sampleValue(e, "ledger_leader_changes_total", s)).toBeGreaterThanOrEqual(1);
        expect(sampleValue(e, "ledger_replica_reads_waiting", s)).toBe(0);
      }

      const mine = count(nodeId);
      expect(sampleValue(e, "ledger_proposals_total", { outcome: "applied" })).toBe(mine.applied);
      expect(sampleValue(e, "ledger_proposals_total", { outcome: "not_leader" })).toBe(mine.notLeader);
      expect(sampleValue(e, "ledger_proposals_total", { outcome: "unknown" })).toBe(0);
      expect(mine.applied + mine.notLeader).toBeGreaterThan(0);

      // Every node appended entries (as leader or follower) with synced writes.
      const fsyncs = sampleValue(e, "ledger_fsync_seconds_count");
      expect(fsyncs).toBeGreaterThan(0);
      expect(sampleValue(e, "ledger_fsync_seconds_sum")).toBeGreaterThan(0);
      expect(sampleValue(e, "ledger_fsync_seconds_bucket", { le: "+Inf" })).toBe(fsyncs);
      expect(sampleValue(e, "ledger_fsync_batch_entries_count")).toBe(fsyncs);
      expect(sampleValue(e, "ledger_fsync_batch_groups_count")).toBe(fsyncs);
      // A leader appends each of its proposals to its own log once; each write holds >= 1 group.
      expect(sampleValue(e, "ledger_fsync_batch_entries_sum")).toBeGreaterThanOrEqual(mine.applied);
      expect(sampleValue(e, "ledger_fsync_batch_groups_sum")).toBeGreaterThanOrEqual(fsyncs);
      expect(sampleValue(e, "ledger_apply_seconds_count")).toBeGreaterThan(0);

      // Proposals through NodeService: counted by method and code.
      if (mine.viaService > 0) {
        expect(sampleValue(e, "ledger_grpc_server_handled_total", { method: "Propose", code: "OK" })).toBe(
          mine.viaService,
        );
        expect(sampleValue(e, "ledger_grpc_server_handling_seconds_count", { method: "Propose", code: "OK" })).toBe(
          mine.viaService,
        );
      }

      for (const name of [
        "ledger_inbox_messages",
        "ledger_inbox_bytes",
        "ledger_proposals_queued",
        "ledger_proposals_in_flight",
        "ledger_db_writer_jobs",
      ]) {
        expect(sampleValue(e, name)).toBeGreaterThanOrEqual(0);
      }
      for (const peer of cluster.nodeIds.filter((n) => n !== nodeId)) {
        expect(sampleValue(e, "ledger_peer_stream_up", { peer })).toBe(1);
        expect(sampleValue(e, "ledger_peer_streams_opened_total", { peer })).toBeGreaterThanOrEqual(1);
      }
      // prom-client's standard process metrics, under their usual names.
      expect(sampleValue(e, "process_cpu_seconds_total")).toBeGreaterThan(0);
      expect(e.types.get("ledger_fsync_seconds")).toBe("histogram");
      expect(e.types.get("ledger_proposals_total")).toBe("counter");
      expect(e.types.get("ledger_replica_applied_index")).toBe("gauge");
    }

    // Each shard's leader got there by an election some replica of the shard started.
    for (const shard of cluster.config.shards) {
      let elections = 0;
      for (const nodeId of cluster.nodeIds)
        elections += sampleValue((await scrape(metricsOf(nodeId))).exposition, "ledger_elections_started_total", {
          shard: shard.id,
        });
      expect(elections).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("node metrics of a snapshot transfer", () => {
  let cluster: InProcessCluster;
  const { metricsOf, renewMetrics } = useObservedCluster(1, (c) => (cluster = c));

  it("a follower that missed compacted entries counts a snapshot installed, its leader a snapshot sent, and the snapshot index gauge follows", async () => {
    const shardId = cluster.config.shards[0]?.id ?? "";
    const leader = (await cluster.waitForStableLeaders()).get(shardId) ?? "";
    const victim = cluster.nodeIds.find((id) => id !== leader) ?? "";
    const others = cluster.nodeIds.filter((id) => id !== victim);
    await cluster.stopNode(victim);
    let lastIndex = 0;
    for (let i = 0; i < 3; i++) {
      const id = accountIn(cluster.config, shardId);
      lastIndex = (await cluster.proposeOn(leader, shardId, createAccountCommand(testTimestamp, id, `snap-${id}`)))
        .index;
    }
    await cluster.waitForConvergence(shardId, lastIndex, { nodes: others });
    // No snapshot can be sent before the logs are compacted.
    const before = sampleValue((await scrape(metricsOf(leader))).exposition, "ledger_snapshots_sent_total", {
      shard: shardId,
    });
    // Compact the logs of both live replicas past everything the victim has.
    for (const nodeId of others) await cluster.host(nodeId).triggerSnapshot(cluster.host(nodeId).replicaOf(shardId));

    await startObservedNode(cluster, victim, renewMetrics(victim));
    await cluster.waitForConvergence(shardId, lastIndex);

    const sent = (await scrape(metricsOf(leader))).exposition;
    expect(sampleValue(sent, "ledger_snapshots_sent_total", { shard: shardId })).toBeGreaterThan(before);
    const installed = (await scrape(metricsOf(victim))).exposition;
    expect(sampleValue(installed, "ledger_snapshots_installed_total", { shard: shardId })).toBeGreaterThanOrEqual(1);
    const replica = cluster.host(victim).replicaOf(shardId);
    expect(sampleValue(installed, "ledger_replica_snapshot_index", { shard: shardId })).toBe(
      replica.log.snapshotMetadata().index,
    );
    expect(replica.log.snapshotMetadata().index).toBeGreaterThanOrEqual(lastIndex);
  });
});

describe("proposal outcomes", () => {
  it.each([
    {
      what: "NOT_LEADER (refused by a follower)",
      error: notApplied("NOT_LEADER", "not the leader"),
      outcome: "not_leader",
    },
    { what: "busy, not applied", error: notApplied("RESOURCE_EXHAUSTED", "busy"), outcome: "refused" },
    { what: "shutting down before proposing", error: notApplied("UNAVAILABLE", "shutting down"), outcome: "refused" },
    {
      what: "leader stepped down after proposing",
      error: outcomeUnknown("shard-01", "stopped leading"),
      outcome: "unknown",
    },
    {
      what: "deadline passed after proposing",
      error: new LedgerError("DEADLINE_EXCEEDED", "late"),
      outcome: "unknown",
    },
    {
      what: "a command skipped at apply",
      error: new LedgerError("INVALID_ARGUMENT", "wrong shard"),
      outcome: "failed",
    },
    { what: "not a LedgerError", error: new Error("boom"), outcome: "failed" },
  ])("$what counts as $outcome", ({ error, outcome }) => {
    expect(proposalOutcome(error)).toBe(outcome);
  });
});

describe("ledger_proposals_total on a node that is shutting down", () => {
  let host: NodeHost | undefined;
  afterEach(async () => {
    await host?.close();
    host = undefined;
    await cleanUpEverything();
  });

  it("counts a proposal refused because the node is shutting down as outcome refused", async () => {
    const config = generateClusterConfig({ nodes: 1, shards: 1, replicationFactor: 1, basePort: await findFreePort() });
    const metrics = createNodeMetrics("node01");
    host = await NodeHost.open({
      config,
      nodeId: "node01",
      security: insecureTransport(),
      dataDir: await makeTempDir("node-metrics-"),
      logger: createLogger({ name: "node01", level: "silent" }),
      observer: metrics.observer,
    });
    metrics.attach(host);
    const replica = [...host.replicas.values()][0]!;
    await host.close();

    let refusal: unknown;
    try {
      await host.propose(replica, new Uint8Array([1]), Date.now() + 1_000);
    } catch (e) {
      refusal = e;
    }
    // The node says it certainly did not apply it...
    expect(isLedgerError(refusal) && refusal.details.applied).toBe("no");
    // ...and its metrics say the same.
    const { exposition } = await scrape(metrics);
    expect(sampleValue(exposition, "ledger_proposals_total", { outcome: "refused" })).toBe(1);
  });
});
