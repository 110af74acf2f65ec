// The node's bounds and timings: ticks and elections, queues, ReadIndex, log compaction,
// snapshots, shutdown. Units last in every name.

import { assert } from "../base/assert.js";
import { nodeCallDeadlineMsDefault, raftMaxAppendBytes } from "../transport/limits.js";

/** Raft tick: heartbeats every tick, elections after 10-20 ticks (1-2 s): slow enough not to
 * flap on a noisy 2-core machine running three nodes, fast enough to fail over in seconds. */
export const nodeTickMsDefault = 100;
export const nodeElectionTicks = 10;
export const nodeHeartbeatTicks = 1;
/** Appends in flight per follower and bytes per append: pipelining without flooding a slow peer. */
export const raftMaxInflightAppends = 256;
/** A leader stops taking proposals beyond this uncommitted tail (RESOURCE_EXHAUSTED). */
export const raftMaxUncommittedBytes = 64 * 1024 * 1024;
/** Forwarding a proposal follower -> leader happens once; a second hop means stale leader
 * knowledge somewhere, and the caller (gateway) is better placed to retry. */
export const nodeForwardHopsMax = 1;
/** Waiting proposals and reads per node; beyond these, RESOURCE_EXHAUSTED instead of memory. */
export const nodePendingProposalsMax = 20_000;
export const nodePendingReadsMax = 20_000;
/** Peer messages queued for the loop; beyond this they are dropped (Raft retransmits). */
export const nodeInboxMessagesMax = 100_000;
/** A ReadIndex that is not confirmed in this time is answered UNAVAILABLE (safe to retry). */
export const readIndexTimeoutMs = 3_000;
/** Log compaction: once a replica's in-memory log holds more than this many entries, it
 * snapshots its applied state and drops entries up to `raftLogCatchUpEntries` behind it, so a
 * follower slightly behind still catches up from the log instead of by snapshot. */
export const raftLogEntriesBeforeCompaction = 20_000;
export const raftLogCatchUpEntries = 5_000;
/** Bounds of the node's --compact-after-entries: below the minimum a node would compact (and
 * send snapshots) almost every turn. It keeps a quarter of the threshold for catching up. */
export const raftLogEntriesBeforeCompactionMin = 100;
export const raftLogEntriesBeforeCompactionMax = 10_000_000;
export const raftLogCatchUpFraction = 0.25;
/** Ticks after start at which preferred replicas without a known leader stand for election:
 * long enough for the peer streams of nodes started together to connect (about 0.2-0.3 s
 * measured with `npm start`), shorter than an election timeout. */
export const startupCampaignTicks = 5;
/** Leadership is moved back to a shard's preferred replica at most this often. */
export const leaderBalanceIntervalTicks = 30;
/** How long a leader waits for an outbound snapshot to be accepted. */
export const snapshotSendTimeoutMs = 60_000;
/** A receive not finished after this long is dropped (longer than any honest sender's deadline). */
export const snapshotReceiveTimeoutMs = snapshotSendTimeoutMs + 10_000;
/** Peer message bytes queued for the loop; beyond this they are dropped like a full inbox. */
export const nodeInboxBytesMax = 64 * 1024 * 1024;
/** Append payload bytes in flight to one follower: with 16 shards a catching-up peer cannot make
 * the leader buffer more than 16 x this. */
export const raftMaxInflightBytes = 8 * 1024 * 1024;
/** A replica's in-memory log is also compacted when it holds more than this many bytes
 * (ReplicaLog.heldBytes), keeping a catch-up tail of at most raftLogCatchUpBytes. */
export const raftLogBytesBeforeCompaction = 64 * 1024 * 1024;
export const raftLogCatchUpBytes = 16 * 1024 * 1024;
/** All of a node's replicas' in-memory logs together: past this, the largest are compacted
 * until they hold half of it, each keeping a tail of at most its share of that half. Without a
 * node bound, 16 replicas could hold 16 x raftLogBytesBeforeCompaction (1 GiB) before any of
 * them compacted. */
export const nodeRaftLogBytesMax = 128 * 1024 * 1024;
/** A node recomputes its health (every replica caught up and knowing a leader) this often: a
 * walk over its replicas' in-memory role and leader (no DB read), cheap enough for every tick. */
export const nodeHealthIntervalMs = 100;
/** A stopping node waits at most this long for its shards' leadership to move to caught-up
 * followers: a transfer takes a round trip or two when a follower is caught up, and an
 * election timeout (1-2 s) when it has to catch up first; longer only delays the exit of a node
 * whose peers are down anyway. */
export const nodeDrainMsMax = 5_000;
/** While draining, the node looks again for shards it still leads this often (a transfer that
 * timed out, a follower that was not recently active, a leadership that came back). */
export const nodeDrainPollMs = 100;
/** In-flight node calls get this long to end once a stopping node refuses new ones (their own
 * deadlines are usually shorter). */
export const nodeCallsGraceMs = 3_000;
/** Bytes of one proposal's log entry (a batch of commands, or one): one entry fits one append
 * (raftMaxAppendBytes), and an append carrying it fits a peer message (grpcMessageBytesMax) with
 * room to spare. A larger batch could never be replicated, so it is refused before the log. */
export const proposalEntryBytesMax = raftMaxAppendBytes;

// Relations the values above must keep, checked when the module loads.
assert(proposalEntryBytesMax <= raftMaxAppendBytes, "the largest proposal fits in one append");
assert(raftMaxAppendBytes <= raftMaxInflightBytes, "one append fits a follower's inflight budget");
assert(nodeHeartbeatTicks < nodeElectionTicks, "heartbeats come well within an election timeout");
assert(startupCampaignTicks < nodeElectionTicks, "preferred replicas campaign before an election timeout");
assert(readIndexTimeoutMs <= nodeCallDeadlineMsDefault, "a read is confirmed or refused within a call's deadline");
assert(snapshotReceiveTimeoutMs > snapshotSendTimeoutMs, "a receiver waits longer than any honest sender");
assert(raftLogCatchUpEntries < raftLogEntriesBeforeCompaction, "compaction keeps fewer entries than it waits for");
assert(
  raftLogEntriesBeforeCompactionMin <= raftLogEntriesBeforeCompaction &&
    raftLogEntriesBeforeCompaction <= raftLogEntriesBeforeCompactionMax,
  "the compaction threshold's default is within the flag's bounds",
);
assert(
  raftLogCatchUpBytes < raftLogBytesBeforeCompaction && raftLogBytesBeforeCompaction <= nodeRaftLogBytesMax,
  "a replica's catch-up tail is below its compaction threshold, which is within the node's log budget",
);
assert(raftLogCatchUpFraction > 0 && raftLogCatchUpFraction < 1, "compaction keeps a fraction of its threshold");
