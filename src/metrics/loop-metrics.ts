// What the node loop reports as it works (the NodeObserver): proposals by outcome, elections,
// leader changes and snapshots per shard, fsync latency and batch sizes, apply latency, and the
// queues a turn found (queue-gauges). The loop runs thousands of turns a second, so the hot path
// only counts, into series bound once per shard or outcome.

import { Counter, Histogram, type Registry } from "prom-client";
import { metricsDiskBucketsSeconds, metricsWriteEntriesBuckets, metricsWriteGroupsBuckets } from "./limits.js";
import type { ShardId } from "../cluster/config.js";
import type { NodeHost } from "../node/node-host.js";
import type { NodeObserver } from "../node/node-observer.js";
import { MessageType, type ReplicaId } from "../raft/index.js";
import { proposalOutcome, proposalOutcomes, proposalOutcomesHelp, type ProposalOutcome } from "./proposal-outcome.js";
import { queueGauges } from "./queue-gauges.js";

export interface LoopMetrics {
  observer: NodeObserver;
  /** Starts the per-shard series at zero and from the replicas' loaded terms (call before start). */
  attach(host: NodeHost): void;
}

interface ShardSeries {
  elections: Counter.Internal;
  leaderChanges: Counter.Internal;
  snapshotsSent: Counter.Internal;
  snapshotsInstalled: Counter.Internal;
  /** Last term and leader seen in this replica's Readies. */
  term: number;
  leader: ReplicaId;
}

export function loopMetrics(registry: Registry): LoopMetrics {
  const registers = [registry];
  const shardCounter = (name: string, help: string): Counter<"shard"> =>
    new Counter({ name, help, labelNames: ["shard"] as const, registers });
  const elections = shardCounter(
    "ledger_elections_started_total",
    "Elections this node's replica started (became candidate in a new term), by shard.",
  );
  const leaderChanges = shardCounter(
    "ledger_leader_changes_total",
    "Times this node's replica learned of a new leader (including the first after start), by shard.",
  );
  const snapshotsSent = shardCounter(
    "ledger_snapshots_sent_total",
    "Snapshot transfers this node's replica started to a follower that fell behind the log, by shard.",
  );
  const snapshotsInstalled = shardCounter(
    "ledger_snapshots_installed_total",
    "Snapshots from the leader this node's replica installed, by shard.",
  );
  const proposals = new Counter({
    name: "ledger_proposals_total",
    help: `Proposals made on this node, by outcome: ${proposalOutcomesHelp}.`,
    labelNames: ["outcome"] as const,
    registers,
  });
  const fsyncSeconds = new Histogram({
    name: "ledger_fsync_seconds",
    help: "Seconds of each synced write of a loop turn's batch (one fsync for all shards), including any wait behind earlier writes in the DB writer's queue.",
    buckets: [...metricsDiskBucketsSeconds],
    registers,
  });
  const fsyncEntries = new Histogram({
    name: "ledger_fsync_batch_entries",
    help: "Raft log entries appended per synced write (the group commit of one loop turn).",
    buckets: [...metricsWriteEntriesBuckets],
    registers,
  });
  const fsyncGroups = new Histogram({
    name: "ledger_fsync_batch_groups",
    help: "Replicas (Raft groups) with a Ready per synced write.",
    buckets: [...metricsWriteGroupsBuckets],
    registers,
  });
  const applySeconds = new Histogram({
    name: "ledger_apply_seconds",
    help: "Seconds a loop turn that applied committed entries spent persisting its Readies into the batch and applying the entries to the ledger state (including reads of the ledger state), before the write.",
    buckets: [...metricsDiskBucketsSeconds],
    registers,
  });

  const turnStarted = queueGauges(registry);

  const shards = new Map<ShardId, ShardSeries>();
  const seriesOf = (shardId: ShardId): ShardSeries => {
    let s = shards.get(shardId);
    if (s === undefined) {
      s = {
        elections: elections.labels(shardId),
        leaderChanges: leaderChanges.labels(shardId),
        snapshotsSent: snapshotsSent.labels(shardId),
        snapshotsInstalled: snapshotsInstalled.labels(shardId),
        term: 0,
        leader: 0,
      };
      shards.set(shardId, s);
    }
    return s;
  };
  const outcomes = Object.fromEntries(proposalOutcomes.map((o) => [o, proposals.labels(o)])) as Record<
    ProposalOutcome,
    Counter.Internal
  >;
  for (const c of Object.values(outcomes)) c.inc(0);

  const observer: NodeObserver = {
    // Roles are read at scrape time; leader changes are counted from the Readies, which name the leader.
    roleChanged: () => undefined,
    turnStarted,
    turnWritten(readies, synced, applyMs, writeMs) {
      let entries = 0;
      let committed = 0;
      for (const [r, rd] of readies) {
        entries += rd.entries.length;
        committed += rd.committedEntries.length;
        const s = seriesOf(r.shard.id);
        const hs = rd.hardState;
        if (hs !== undefined && hs.term > s.term) {
          // A replica that campaigns moves to a new term voting for itself; one that only follows a
          // newer term has no vote yet or gives it to another.
          if (hs.vote === r.replicaId) s.elections.inc();
          s.term = hs.term;
        }
        const leader = rd.softState?.leader;
        if (leader !== undefined && leader !== s.leader) {
          if (leader !== 0) s.leaderChanges.inc();
          s.leader = leader;
        }
        if (rd.snapshot !== undefined) s.snapshotsInstalled.inc();
        for (const m of rd.messages) if (m.type === MessageType.Snapshot) s.snapshotsSent.inc();
      }
      if (synced) {
        fsyncSeconds.observe(writeMs / 1000);
        fsyncEntries.observe(entries);
        fsyncGroups.observe(readies.length);
      }
      if (committed > 0) applySeconds.observe(applyMs / 1000);
    },
    proposalApplied: () => outcomes.applied.inc(),
    proposalFailed: (error) => outcomes[proposalOutcome(error)].inc(),
  };

  return {
    observer,
    attach(host) {
      for (const r of host.replicas.values()) {
        const s = seriesOf(r.shard.id);
        s.term = r.log.hardState().term;
        s.leader = r.leader;
        for (const c of [s.elections, s.leaderChanges, s.snapshotsSent, s.snapshotsInstalled]) c.inc(0);
      }
    },
  };
}
