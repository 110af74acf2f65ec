// The node: every shard replica this node hosts, driven by ONE loop over ONE LevelDB.
//
// A loop turn: step the peer messages, ticks, proposals and reads that arrived since the last
// turn; collect the Ready of every replica that has one; send the leaders' appends at once
// (their Readies are `sendFirst`); put all log entries, hard states and applied ledger writes
// (with each applied index) in one chained batch and write it through the ordered writer,
// synced when any Ready requires it (one fsync for all shards); only then send the other Raft
// messages (one batch per peer node), answer the readers, and advance. Proposers are answered
// as soon as their entries are applied, before the write. Inputs that arrive during the write
// wait for the next turn: that is the group commit.

import { ClassicLevel } from "classic-level";
import { LedgerError } from "../base/errors.js";
import { quote } from "../base/quote.js";
import type { Logger } from "../base/logger.js";
import { droppedMessageLogIntervalMs } from "../base/limits.js";
import {
  leaderBalanceIntervalTicks,
  nodeElectionTicks,
  nodeHeartbeatTicks,
  nodeInboxBytesMax,
  nodeInboxMessagesMax,
  nodeTickMsDefault,
  raftMaxInflightAppends,
  raftMaxInflightBytes,
  raftMaxUncommittedBytes,
} from "./limits.js";
import { raftTermJumpMax, raftTermMax } from "../raft/index.js";
import { raftMaxAppendBytes } from "../transport/limits.js";
import { seededPrng } from "../base/prng.js";
import type { ClusterConfig, NodeId, ShardId } from "../cluster/config.js";
import type { CommandResult, Query } from "../gen/ledger/core/v1/core_pb.js";
import {
  MessageType,
  type ConfChange,
  type ConfState,
  type Message,
  type Ready,
  type ReplicaId,
} from "../raft/index.js";
import { assert, AssertionError } from "../base/assert.js";
import { DbWriter } from "../storage/db-writer.js";
import type { LedgerDb } from "../storage/ledger-store.js";
import { otherGenerationRanges } from "../storage/replica-keys.js";
import { batchProposalBytes, encodeBatchProposal, encodeProposal, envelopeHeaderBytes } from "./proposal-envelope.js";
import { Replica } from "./replica.js";
import { notApplied } from "./waiters.js";
import { ProposalQueue } from "./proposal-queue.js";
import { NodeLoop } from "./node-loop.js";
import { CompactionPolicy } from "./compaction-policy.js";
import { MembershipChanges } from "./membership-changes.js";
import { refusedProposal } from "./proposal-errors.js";
import { ReadPath, type ReadAnswer } from "./read-path.js";
import { PeerLinks } from "./peer-links.js";
import { SnapshotTransfers } from "./snapshot-transfers.js";
import { summarizeReplica, type ReplicaSummary } from "./replica-summary.js";
export type { ReplicaSummary } from "./replica-summary.js";
import { balanceLeaders, campaignWherePreferred, startupCampaignTicks } from "./leadership.js";
import { ThrottledWarning } from "../base/throttled-warning.js";
import { nullNodeObserver, type NodeObserver } from "./node-observer.js";
import { systemClock, type Clock } from "../base/clock.js";
import type { TransportSecurity } from "../security/transport-security.js";
import { grpcPeerTransport, type PeerTransport } from "../transport/peer-transport.js";

export interface NodeHostOptions {
  config: ClusterConfig;
  nodeId: NodeId;
  /** How channels to peer nodes are secured (mutual TLS checking each peer's identity). */
  security: TransportSecurity;
  dataDir: string;
  logger: Logger;
  tickMs?: number;
  /** Told of the loop's work (metrics); nobody by default. */
  observer?: NodeObserver;
  /** Time, timers and randomness (the system's by default; the simulator's virtual ones). */
  clock?: Clock;
  /** The database (not yet opened; the host opens and closes it): LevelDB in `dataDir` by
   * default, the simulator's memory-level with simulated syncs. */
  store?: LedgerDb;
  /** How peers are reached: gRPC over `security` by default, the simulator's network. */
  transport?: PeerTransport;
  /** Compact a replica's log once it holds more entries than this (raftLogEntriesBeforeCompaction
   * by default), keeping the newest quarter of that for followers slightly behind. */
  compactAfterEntries?: number;
}

/** What a batch proposer hears: one outcome per command, in the batch's order. */
export interface BatchApplied {
  results: (CommandResult | LedgerError)[];
  index: number;
}

export class NodeHost {
  readonly nodeId: NodeId;
  readonly config: ClusterConfig;
  readonly security: TransportSecurity;
  readonly transport: PeerTransport;
  readonly replicas = new Map<ShardId, Replica>();
  readonly nodeOfReplica = new Map<ReplicaId, NodeId>();
  private readonly logger: Logger;
  private readonly observer: NodeObserver;
  readonly clock: Clock;
  private readonly compaction: CompactionPolicy;
  private readonly membership = new MembershipChanges();
  private readonly writer: DbWriter;
  private readonly proposals: ProposalQueue;
  private inbox: (() => void)[] = [];
  private inboxMessages = 0;
  private inboxBytes = 0;
  private pendingTicks = 0;
  private ticksSinceBalance = 0;
  /** Ticks since this process started. */
  private ticksElapsed = 0;
  private readonly loop: NodeLoop;
  private stopTicker: (() => void) | undefined;
  private closed = false;
  readonly links: PeerLinks;
  private readonly reads: ReadPath;
  private readonly dropped: ThrottledWarning;
  readonly snapshots: SnapshotTransfers;

  private constructor(
    options: NodeHostOptions,
    readonly db: LedgerDb,
  ) {
    this.nodeId = options.nodeId;
    this.config = options.config;
    this.security = options.security;
    this.logger = options.logger;
    this.observer = options.observer ?? nullNodeObserver;
    this.clock = options.clock ?? systemClock;
    this.transport =
      options.transport ??
      grpcPeerTransport({ nodeId: this.nodeId, config: this.config, security: this.security, logger: this.logger });
    this.compaction = new CompactionPolicy(this.logger, options.compactAfterEntries);
    this.loop = new NodeLoop({
      clock: this.clock,
      logger: this.logger,
      turn: () => this.turn(),
      hasWork: () => this.hasWork(),
    });
    this.proposals = new ProposalQueue(this.nodeId, this.observer, this.clock, () => this.schedule());
    // A failed write anywhere (a turn, a snapshot's staging, a log cleanup) stops the node.
    this.writer = new DbWriter(db, (e) => this.loop.fail(e, "a database write failed; the node stops"));
    for (const shard of this.config.shards) for (const r of shard.replicas) this.nodeOfReplica.set(r.id, r.nodeId);
    this.links = new PeerLinks(this, this.logger);
    this.reads = new ReadPath(db, this.nodeId, this.proposals.epoch, this.clock, () => this.schedule());
    this.dropped = new ThrottledWarning(this.logger, droppedMessageLogIntervalMs);
    this.snapshots = new SnapshotTransfers(this, this.writer, this.logger);
  }

  static async open(options: NodeHostOptions): Promise<NodeHost> {
    const db: LedgerDb =
      options.store ??
      new ClassicLevel<Uint8Array, Uint8Array>(options.dataDir, {
        keyEncoding: "view",
        valueEncoding: "view",
      });
    await db.open();
    const host = new NodeHost(options, db);
    try {
      await host.openReplicas();
    } catch (e) {
      await db.close();
      throw e;
    }
    return host;
  }

  private async openReplicas(): Promise<void> {
    const seed = this.clock.randomInt(0, 2 ** 31);
    for (const [shardIndex, shard] of this.config.shards.entries()) {
      const mine = shard.replicas.find((r) => r.nodeId === this.nodeId);
      if (mine === undefined) continue;
      const replica = await Replica.open({
        db: this.db,
        shard,
        shardIndex,
        replicaId: mine.id,
        nodeOfReplica: this.nodeOfReplica,
        logger: this.logger.child({ shard: shard.id }),
        raft: {
          electionTicks: nodeElectionTicks,
          heartbeatTicks: nodeHeartbeatTicks,
          random: seededPrng(seed + shardIndex),
          maxInflightAppends: raftMaxInflightAppends,
          maxInflightBytes: raftMaxInflightBytes,
          maxAppendBytes: raftMaxAppendBytes,
          maxUncommittedBytes: raftMaxUncommittedBytes,
          preVote: true,
          checkQuorum: true,
          maxTerm: raftTermMax,
          maxTermJump: raftTermJumpMax,
        },
      });
      // Leftovers of a snapshot install or a replaced state that a crash interrupted.
      for (const range of otherGenerationRanges(replica.replicaId, replica.log.generation()))
        await this.writer.clear(range);
      for (const range of replica.log.pendingCleanup()) await this.writer.clear(range);
      replica.log.cleanupDone();
      this.replicas.set(shard.id, replica);
      this.logger.info(
        {
          shard: shard.id,
          replica: replica.replicaId,
          applied: replica.applied,
          commit: replica.log.hardState().commit,
          term: replica.log.hardState().term,
          lastIndex: replica.log.lastIndex(),
        },
        "replica loaded",
      );
    }
  }

  /** Starts the ticker. `onFatal` is called if the loop hits an error it cannot survive. */
  start(onFatal: (e: unknown) => void, tickMs = nodeTickMsDefault): void {
    this.loop.onFatal(onFatal);
    this.links.connectAll();
    this.stopTicker = this.clock.every(tickMs, () => {
      this.pendingTicks++;
      this.schedule();
    });
    this.schedule();
  }

  replicaOf(shardId: string): Replica {
    const r = this.replicas.get(shardId);
    if (r === undefined) {
      const known = this.config.shards.some((s) => s.id === shardId);
      throw new LedgerError(
        "INVALID_ARGUMENT",
        known
          ? `shard_id ${shardId} has no replica on node ${this.nodeId}`
          : `shard_id ${quote(shardId)} is not a shard of the cluster config`,
      );
    }
    return r;
  }

  // ---- inputs (called from gRPC handlers and the transport) ----

  /** Proposes an encoded command on a replica this node leads; resolves when applied here. */
  async propose(
    replica: Replica,
    command: Uint8Array,
    deadlineMs: number,
  ): Promise<{ result: CommandResult; index: number }> {
    const applied = await this.proposals.admit(
      replica,
      1,
      envelopeHeaderBytes + command.length,
      (tag) => encodeProposal(tag, command),
      deadlineMs,
    );
    const outcome = applied.outcomes[0];
    // A single command refused at apply rejected its waiter in the loop turn instead.
    assert(
      applied.outcomes.length === 1 && outcome?.result !== undefined,
      "a single proposal is answered with one result",
    );
    return { result: outcome.result, index: applied.index };
  }

  /**
   * Proposes encoded commands of one shard as ONE log entry; resolves when it is applied here,
   * with one outcome per command in order: the core's result, or the LedgerError this shard
   * refused that command with. Commands are applied in order, each independently.
   */
  async proposeBatch(replica: Replica, commands: readonly Uint8Array[], deadlineMs: number): Promise<BatchApplied> {
    if (commands.length === 0) throw notApplied("INVALID_ARGUMENT", "a batch proposal needs at least one command");
    const applied = await this.proposals.admit(
      replica,
      commands.length,
      batchProposalBytes(commands),
      (tag) => encodeBatchProposal(tag, commands),
      deadlineMs,
    );
    assert(applied.outcomes.length === commands.length, "a batch is answered with one outcome per command");
    return { results: applied.outcomes.map((o) => o.error ?? o.result), index: applied.index };
  }

  /** Linearizable reads waiting on `replica` (metrics). */
  readsWaiting(replica: Replica): number {
    return this.reads.waiting(replica);
  }

  /** A linearizable read through ReadIndex (works on followers too), or a stale local read. */
  read(replica: Replica, query: Query, stale: boolean, deadlineMs: number): Promise<ReadAnswer> {
    this.checkOpen();
    return this.reads.read(replica, query, stale, deadlineMs);
  }

  /** Peer messages for the loop; dropped (Raft retransmits) when the inbox is full. */
  deliver(fromNodeId: NodeId, messages: readonly { shardId: string; message: Message }[]): void {
    if (this.closed) return;
    for (const { shardId, message } of messages) {
      const replica = this.replicas.get(shardId);
      if (
        replica === undefined ||
        message.to !== replica.replicaId ||
        this.nodeOfReplica.get(message.from) !== fromNodeId ||
        !replica.shard.replicas.some((r) => r.id === message.from)
      ) {
        this.dropped.note(
          { from: fromNodeId, shard: shardId, to: message.to, sender: message.from },
          "dropping a peer message not addressed to a replica here",
        );
        continue;
      }
      if (message.type === MessageType.Snapshot) {
        // A snapshot's data comes only through InstallSnapshot, staged before its message.
        this.dropped.note(
          { from: fromNodeId, shard: shardId },
          "dropping a snapshot message sent on the message stream",
        );
        continue;
      }
      const bytes = messageBytes(message);
      if (this.inboxMessages >= nodeInboxMessagesMax || this.inboxBytes + bytes > nodeInboxBytesMax) {
        this.dropped.note(
          { from: fromNodeId, messages: this.inboxMessages, bytes: this.inboxBytes },
          "node inbox full; dropping peer messages (Raft retransmits)",
        );
        continue;
      }
      this.inboxMessages++;
      this.inboxBytes += bytes;
      this.inbox.push(() => {
        this.inboxMessages--;
        this.inboxBytes -= bytes;
        this.stepSafely(replica, message);
      });
    }
    this.schedule();
  }

  /** Runs `fn` inside the next loop turn, before Readies are collected. */
  enqueue(fn: () => void): void {
    this.inbox.push(fn);
    this.schedule();
  }

  /** Runs `fn` when no loop turn is writing: the DB then holds exactly what the replicas applied. */
  whenQuiescent(fn: () => void): void {
    this.loop.whenQuiescent(fn);
  }

  transferLeadership(replica: Replica, toNodeId: NodeId): void {
    const target = replica.shard.replicas.find((r) => r.nodeId === toNodeId);
    if (target === undefined)
      throw new LedgerError(
        "INVALID_ARGUMENT",
        `to_node_id ${quote(toNodeId)} hosts no replica of ${replica.shard.id}`,
      );
    this.enqueue(() => replica.raw.transferLeadership(target.id));
  }

  /**
   * Proposes a membership change of `replica`'s shard (this node must lead it); resolves with the
   * shard's membership once the change is applied and written here. Refusals (not the leader,
   * a change still pending, one that does not fit) are FAILED_PRECONDITION or the usual
   * not-applied errors; see MembershipChanges for lost entries and deadlines.
   */
  changeMembership(replica: Replica, cc: ConfChange, deadlineMs: number): Promise<ConfState> {
    this.checkOpen();
    return new Promise((resolve, reject) => {
      this.enqueue(() =>
        this.membership.propose(replica, cc, deadlineMs, { resolve, reject }, (e) =>
          refusedProposal(this.nodeId, replica, this.nodeOfReplica.get(replica.leader), e),
        ),
      );
    });
  }

  triggerSnapshot(replica: Replica): Promise<number> {
    this.checkOpen();
    const taken = this.compaction.request(replica);
    this.schedule();
    return taken;
  }

  /** Every replica's state, read when no turn is writing (so hashes match applied indexes). */
  async replicaSummaries(includeStateHash: boolean): Promise<ReplicaSummary[]> {
    const pending = await new Promise<Promise<ReplicaSummary>[]>((resolve) =>
      this.whenQuiescent(() =>
        resolve(
          [...this.replicas.values()].map((r) => summarizeReplica(this.db, r, this.nodeOfReplica, includeStateHash)),
        ),
      ),
    );
    return Promise.all(pending);
  }

  /** Shards that keep this node from serving: replaying their log after a restart, or without a
   * known leader (no quorum: PreVote clears a cut-off follower's leader after an election
   * timeout, CheckQuorum steps a cut-off leader down). From the last Ready; no DB read. */
  healthProblems(): { replaying: ShardId[]; leaderless: ShardId[] } {
    const replaying: ShardId[] = [];
    const leaderless: ShardId[] = [];
    for (const r of this.replicas.values()) {
      if (!r.caughtUp) replaying.push(r.shard.id);
      if (r.leader === 0) leaderless.push(r.shard.id);
    }
    return { replaying, leaderless };
  }

  // ---- the loop ----

  private schedule(): void {
    if (!this.closed) this.loop.schedule();
  }

  private hasWork(): boolean {
    if (this.closed) return false;
    if (this.inbox.length > 0 || this.proposals.queuedCount > 0 || this.pendingTicks > 0 || this.compaction.hasRequests)
      return true;
    for (const r of this.replicas.values()) if (this.reads.hasQueued(r) || r.raw.hasReady()) return true;
    return false;
  }

  private async turn(): Promise<void> {
    this.observer.turnStarted(
      this.inboxMessages,
      this.inboxBytes,
      this.proposals.queuedCount,
      this.proposals.waitingCount,
      this.writer.queuedJobs(),
    );
    const inbox = this.inbox;
    this.inbox = [];
    for (const fn of inbox) fn();
    this.runTicks();
    this.proposals.proposeAll(this.nodeOfReplica);
    for (const r of this.replicas.values()) this.reads.startReadIndex(r);

    const batch = this.db.batch();
    const triggered = this.compaction.run(this.replicas.values(), batch);
    const readies: [Replica, Ready][] = [];
    for (const r of this.replicas.values()) if (r.raw.hasReady()) readies.push([r, r.raw.ready()]);
    // A leader's appends leave now, while its own write runs (Raft thesis §10.2.1): the followers
    // store the entries in parallel, and the leader's copy counts toward commit only once this
    // turn's write is durable (RawNode.advance). So one fsync, not two, is on a write's path.
    let sentFirst = false;
    for (const [r, rd] of readies) {
      if (!rd.sendFirst || rd.messages.length === 0) continue;
      this.links.add(r, rd.messages);
      sentFirst = true;
    }
    if (sentFirst) this.links.flush();
    let sync = false;
    const applied: Awaited<ReturnType<Replica["persistAndApply"]>>[] = [];
    const applyStartMs = this.clock.monotonicMs();
    for (const [r, rd] of readies) {
      sync ||= rd.mustSync;
      applied.push(await r.persistAndApply(rd, batch, this.db, this.snapshots.stagedFor(r)));
      if (rd.snapshot !== undefined) this.snapshots.installed(r);
    }
    // Proposers hear their outcome now, while the write runs: an entry handed out as committed is
    // durable on a quorum, and its outcome is what every replica's apply will compute, so a crash
    // before this write lands only means replaying it. Reads never see the applied state before
    // the write (they are served from what publishReadable exposes after it).
    for (const a of applied) this.proposals.answer(a);
    const writeStartMs = this.clock.monotonicMs();
    const writing = batch.length > 0;
    if (batch.length > 0) await this.writer.write(batch, { sync });
    else await batch.close();
    this.observer.turnWritten(
      readies,
      writing && sync,
      writeStartMs - applyStartMs,
      writing ? this.clock.monotonicMs() - writeStartMs : 0,
    );
    for (const r of this.replicas.values()) r.publishReadable();
    for (const r of this.replicas.values()) {
      for (const range of r.log.pendingCleanup())
        this.writer
          .clear(range)
          .catch((e: unknown) => this.logger.warn({ err: String(e) }, "log cleanup failed; retried at next start"));
      r.log.cleanupDone();
    }
    for (const [r, fire] of triggered) fire(r.log.snapshotMetadata().index);
    this.membership.settle(this.clock.nowMs());

    for (const [r, rd] of readies) {
      // (The proposals applied were answered before the write, so also before reacting to a role
      // change in the same Ready: one committed just before a step-down gets its result.)
      // Read points confirmed while leading stay valid after a step-down: confirm them first.
      this.reads.confirm(r, rd.readStates);
      if (rd.softState !== undefined) this.onSoftState(r, rd.softState.role, rd.softState.leader);
      if (!rd.sendFirst) this.links.add(r, rd.messages);
      r.raw.advance(rd);
    }
    this.links.flush();
    // The receive of a snapshot stepped in this turn ends here: installed, or not needed
    // (stale, or already covered by the log) and dropped.
    this.snapshots.settleStaged();
    for (const r of this.replicas.values()) this.reads.serve(r);
  }

  private runTicks(): void {
    const ticks = Math.min(this.pendingTicks, nodeElectionTicks);
    this.pendingTicks = 0;
    if (ticks === 0) return;
    // Once an interval has passed, check at every tick until no leader waits to be moved.
    this.ticksSinceBalance += ticks;
    if (
      this.ticksSinceBalance >= leaderBalanceIntervalTicks &&
      balanceLeaders(this.replicas.values(), this.nodeOfReplica, this.logger, this.ticksElapsed) === 0
    ) {
      this.ticksSinceBalance = 0;
    }
    for (const r of this.replicas.values()) for (let i = 0; i < ticks; i++) r.raw.tick();
    const now = this.clock.nowMs();
    this.proposals.expire(now);
    for (const r of this.replicas.values()) this.reads.expire(r, now);
    this.ticksElapsed += ticks;
    if (this.ticksElapsed >= startupCampaignTicks && this.ticksElapsed - ticks < startupCampaignTicks)
      campaignWherePreferred(this.replicas.values());
  }

  private onSoftState(r: Replica, role: Replica["role"], leader: ReplicaId): void {
    const wasLeader = r.isLeader;
    const previousLeader = r.leader;
    if (!wasLeader && role === "leader") r.leaderSinceTick = this.ticksElapsed;
    r.role = role;
    r.leader = leader;
    const term = r.raw.status().hardState.term;
    this.logger.info(
      { shard: r.shard.id, role, leader: this.nodeOfReplica.get(leader) ?? null, term },
      "replica role changed",
    );
    this.observer.roleChanged(r.shard.id, role, term, role === "leader");
    if (wasLeader && role !== "leader") {
      this.proposals.failShard(r.shard.id, `node ${this.nodeId} stopped leading`);
      this.reads.failUnconfirmed(r, "leadership changed");
    } else if (!wasLeader && leader !== previousLeader) {
      // Our unconfirmed reads went to the previous leader, which will not answer them now:
      // fail them at once (safe to retry) rather than after the confirmation timeout. Found
      // by the whole-cluster simulator (a follower's read hung for 3 s after a failover).
      this.reads.failUnconfirmed(r, "the leader changed");
    }
  }

  /** A message to `to` was dropped: the stream to its node is down or full. */
  peerUnreachable(r: Replica, to: ReplicaId): void {
    r.raw.reportUnreachable(to);
    // A follower's ReadIndex requests may have been among the dropped: fail its unconfirmed
    // reads now (they are safe to retry) rather than after the confirmation timeout.
    if (to === r.leader && !r.isLeader) this.reads.failUnconfirmed(r, "the leader's node is unreachable");
  }

  stepSafely(r: Replica, m: Message): void {
    try {
      r.raw.step(m);
    } catch (e) {
      // A broken invariant means the replica's state can no longer be trusted: stop the node
      // (the turn fails) and recover by restart and replay, rather than go on.
      if (e instanceof AssertionError) throw e;
      this.logger.error(
        { shard: r.shard.id, from: m.from, type: m.type, err: String(e) },
        "dropping a Raft message the replica refused",
      );
    }
  }

  private checkOpen(): void {
    if (this.closed) throw notApplied("UNAVAILABLE", `node ${this.nodeId} is shutting down; not applied, retry`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTicker?.();
    await this.loop.stop();
    // Every turn wrote its applied entries with their applied index, so a restart replays only
    // what was committed and not yet applied. Turns without a must-sync Ready wrote unsynced:
    // one synced write now makes all of it durable before LevelDB closes.
    if (!this.loop.failed) {
      const batch = this.db.batch();
      for (const r of this.replicas.values()) r.log.setApplied(r.applied, batch);
      await this.writer.write(batch, { sync: true });
    }
    const down = new LedgerError(
      "UNAVAILABLE",
      `node ${this.nodeId} is shutting down; the outcome is unknown. Retrying with the same request_id is safe`,
    );
    this.proposals.close(
      () => notApplied("UNAVAILABLE", `node ${this.nodeId} is shutting down; not applied, retry`),
      down,
    );
    for (const r of this.replicas.values()) this.reads.failAll(r, down);
    this.compaction.failAll(down);
    this.membership.failAll(down);
    this.links.close();
    await this.snapshots.close();
    await this.writer.close();
    await this.db.close();
  }
}

/** Approximate memory of a queued peer message: its entries' payloads plus a fixed overhead. */
function messageBytes(m: Message): number {
  let bytes = 128 + m.context.length;
  for (const e of m.entries) bytes += 64 + e.data.length;
  return bytes;
}
