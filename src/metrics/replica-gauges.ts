// Gauges read from the node host at scrape time: each shard replica's role and Raft indexes, the
// reads waiting on it, and the streams to the peer nodes. Reading only fields the loop keeps in
// memory (no DB reads), so a scrape costs the loop nothing but a few microseconds per replica.

import { Counter, Gauge, type Registry } from "prom-client";
import type { NodeHost } from "../node/node-host.js";
import type { Replica } from "../node/replica.js";
import type { Role } from "../raft/index.js";

const roles: readonly Role[] = ["follower", "pre-candidate", "candidate", "leader"];

export interface ReplicaGauges {
  attach(host: NodeHost): void;
}

export function replicaGauges(registry: Registry, nodeId: string): ReplicaGauges {
  const registers = [registry];
  let host: NodeHost | undefined;

  new Gauge({
    name: "ledger_node_info",
    help: "Always 1; names the node this process runs.",
    labelNames: ["node"] as const,
    registers,
  })
    .labels(nodeId)
    .set(1);

  new Gauge({
    name: "ledger_replica_role",
    help: `1 for the role this node's replica of the shard has, 0 for the others (roles: ${roles.join(", ")}).`,
    labelNames: ["shard", "role"] as const,
    registers,
    collect() {
      this.reset();
      for (const r of host?.replicas.values() ?? [])
        for (const role of roles) this.labels(r.shard.id, role).set(r.role === role ? 1 : 0);
    },
  });
  const replicaGauge = (name: string, help: string, read: (r: Replica) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ["shard"] as const,
      registers,
      collect() {
        this.reset();
        for (const r of host?.replicas.values() ?? []) this.labels(r.shard.id).set(read(r));
      },
    });
  };
  replicaGauge(
    "ledger_replica_term",
    "Raft term of this node's replica of the shard.",
    (r) => r.raw.status().hardState.term,
  );
  replicaGauge(
    "ledger_replica_commit_index",
    "Highest log index this node's replica knows to be committed.",
    (r) => r.raw.status().hardState.commit,
  );
  replicaGauge(
    "ledger_replica_applied_index",
    "Highest log index this node's replica has applied to its ledger state.",
    (r) => r.applied,
  );
  replicaGauge("ledger_replica_last_index", "Last index of this node's replica's Raft log.", (r) => r.log.lastIndex());
  replicaGauge(
    "ledger_replica_snapshot_index",
    "Index of the snapshot this node's replica's log starts after (raised by compaction and snapshot installs).",
    (r) => r.log.snapshotMetadata().index,
  );
  replicaGauge(
    "ledger_replica_reads_waiting",
    "Linearizable reads waiting on this node's replica: queued, waiting for the leader's confirmation, or for the replica to apply their read point.",
    (r) => host?.readsWaiting(r) ?? 0,
  );

  new Gauge({
    name: "ledger_peer_stream_up",
    help: "1 while the Raft message stream to the peer node is up, else 0. Batches are dropped (and Raft retransmits) while it is down.",
    labelNames: ["peer"] as const,
    registers,
    collect() {
      this.reset();
      for (const p of host?.links.peerStats() ?? []) this.labels(p.nodeId).set(p.state === "up" ? 1 : 0);
    },
  });
  // Counters kept by the peer senders; copied into the registry at scrape time.
  const peerCounter = (
    name: string,
    help: string,
    read: (p: ReturnType<NodeHost["links"]["peerStats"]>[number]) => number,
  ): void => {
    new Counter({
      name,
      help,
      labelNames: ["peer"] as const,
      registers,
      collect() {
        this.reset();
        for (const p of host?.links.peerStats() ?? []) this.labels(p.nodeId).inc(read(p));
      },
    });
  };
  // Counters kept by each replica's Raft core; copied into the registry at scrape time.
  new Counter({
    name: "ledger_raft_messages_refused_total",
    help: "Peer Raft messages this node's replica of the shard refused without stepping them, by reason: termAboveMax (a term near the integer limit), termJump (a term further ahead than the replica's credit allows), inconsistent (contradicts what the replica knows, e.g. an ack past the leader's log).",
    labelNames: ["shard", "reason"] as const,
    registers,
    collect() {
      this.reset();
      for (const r of host?.replicas.values() ?? []) {
        for (const [reason, n] of Object.entries(r.raw.status().refused)) this.labels(r.shard.id, reason).inc(n);
      }
    },
  });
  peerCounter(
    "ledger_peer_batches_dropped_total",
    "Turn batches of Raft messages to the peer node dropped because its stream was down or full (the sender queues nothing of its own).",
    (p) => p.batchesDropped,
  );
  peerCounter(
    "ledger_peer_streams_opened_total",
    "Raft message streams opened to the peer node (reconnects after the first).",
    (p) => p.streamsOpened,
  );

  return {
    attach(h) {
      host = h;
    },
  };
}
