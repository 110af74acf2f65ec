// The Raft state machine of one replica: its state, role transitions, ticks, proposals and the
// dispatch of every message. Elections and the term rules live in election.ts, role-specific
// handling in step-leader.ts and step-follower.ts, the leader's sending side in replication.ts.
// Pure: input is a tick, a message or an API call; output is state plus `msgs` / `readStates`,
// collected by RawNode.

import { assert } from "../base/assert.js";
import { raftTermJumpMax, raftTermMax } from "./limits.js";
import type { Prng } from "../base/prng.js";
import {
  applyConfChangeTo,
  confChangeRefusal,
  decodeConfChange,
  describeConfChange,
  encodeConfChange,
} from "./conf-change.js";
import type { ConfChange } from "./conf-change.js";
import { describeMessage } from "./describe.js";
import { handleVoteRequest, hup as startElection, stepHigherTerm, stepLowerTerm } from "./election.js";
import { emptyBytes, newMessage } from "./messages.js";
import { Progress } from "./progress.js";
import { messageInconsistency } from "./message-checks.js";
import { MajorityConfig } from "./quorum.js";
import { RaftLog } from "./raft-log.js";
import { ReadOnly } from "./read-only.js";
import { Refusals } from "./refusals.js";
import { bcastAppend, bcastHeartbeat, maybeSendAppend, sendTimeoutNow } from "./replication.js";
import { stepCandidate, stepFollower } from "./step-follower.js";
import { releasePendingReadIndex, stepLeader } from "./step-leader.js";
import { TermGuard } from "./term-guard.js";
import type { RaftState } from "./raft-state.js";
import { EntryType, MessageType, RaftError } from "./types.js";
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  RaftConfig,
  RaftLogger,
  ReadState,
  RefusalReason,
  ReplicaId,
  Role,
  SoftState,
  Storage,
} from "./types.js";

export class Raft implements RaftState {
  readonly id: ReplicaId;
  term = 0;
  vote: ReplicaId = 0;
  lead: ReplicaId = 0;
  role: Role = "follower";
  readonly raftLog: RaftLog;
  /** The voting configuration, as of the last applied conf change (or the snapshot). */
  config = new MajorityConfig([]);
  /** Members that receive the log but do not vote (conf-change.ts). */
  learners: ReplicaId[] = [];
  /** Voters then learners, without us: whom a leader replicates to, in a fixed order. */
  replicationTargets: ReplicaId[] = [];
  /** Leader only: what we know of each member's log (including our own). */
  prs = new Map<ReplicaId, Progress>();
  /** Leader: the index of the last conf change it may not follow with another until applied
   * (its own last proposed one, or its log's end when it was elected). */
  pendingConfIndex = 0;
  /** Votes received in the current (pre-)campaign. */
  readonly votes = new Map<ReplicaId, boolean>();
  /** Outgoing messages, taken by RawNode.ready(). */
  msgs: Message[] = [];
  /** Answered read requests, taken by RawNode.ready(). */
  readStates: ReadState[] = [];
  readonly readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReadIndex: Message[] = [];
  readonly pendingReadKeys = new Set<string>();
  /** Leadership transfer target, 0 when none. */
  leadTransferee: ReplicaId = 0;
  /** A TimeoutNow arrived while a committed conf change was unapplied (see hup). */
  transferCampaignPending = false;
  /** Leader: payload bytes appended but not yet known applied (backpressure). */
  uncommittedBytes = 0;
  /** Leader: entries were proposed since the last broadcast (batched into the next Ready). */
  appendPending = false;

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly maxAppendBytes: number;
  readonly maxInflightAppends: number;
  readonly maxInflightBytes: number;
  readonly maxUncommittedBytes: number;
  /** How far peers' messages may move our term (maxTerm, term credit). */
  readonly termGuard: TermGuard;
  /** Peer messages refused, by reason (Status.refused). */
  readonly refusals: Refusals;
  private readonly random: Prng;
  private readonly logger: RaftLogger | undefined;

  constructor(cfg: RaftConfig, storage: Storage) {
    validateConfig(cfg);
    this.id = cfg.id;
    this.electionTimeout = cfg.electionTicks;
    this.heartbeatTimeout = cfg.heartbeatTicks;
    this.checkQuorum = cfg.checkQuorum;
    this.preVote = cfg.preVote;
    this.maxAppendBytes = cfg.maxAppendBytes;
    this.maxInflightAppends = cfg.maxInflightAppends;
    this.maxInflightBytes = cfg.maxInflightBytes ?? 0;
    this.maxUncommittedBytes = cfg.maxUncommittedBytes;
    this.random = cfg.random;
    this.logger = cfg.logger;
    this.termGuard = new TermGuard(cfg.maxTerm ?? raftTermMax, cfg.maxTermJump ?? raftTermJumpMax, cfg.electionTicks);
    this.refusals = new Refusals(cfg.id, cfg.logger);
    this.raftLog = new RaftLog(storage);

    const { hardState, confState } = storage.initialState();
    const voters = confState.voters.length > 0 ? confState.voters : (cfg.peers ?? []);
    // A replica with no voters would silently never campaign: a missing `peers` on restart.
    assert(voters.length > 0, `${cfg.id} has no voters: pass peers (or storage must hold a ConfState)`);
    this.setConfState({ voters, learners: confState.learners });
    this.resetProgress();
    if (hardState.term !== 0 || hardState.vote !== 0 || hardState.commit !== 0) this.loadState(hardState);
    this.restoreApplied(cfg.applied ?? 0);
    this.becomeFollower(this.term, 0);
    this.info(
      `${this.id} started at term ${this.term}: vote=${this.vote} commit=${this.raftLog.committed} ` +
        `applied=${this.raftLog.applied} log=${this.raftLog.lastTerm()}/${this.raftLog.lastIndex()} ` +
        `voters=(${this.config.voters.join(" ")})`,
    );
  }

  // --- logging -------------------------------------------------------------------------------

  info(msg: string): void {
    this.logger?.info(msg);
  }

  warn(msg: string): void {
    this.logger?.warn(msg);
  }

  debug(msg: string): void {
    this.logger?.debug(msg);
  }

  // --- state ---------------------------------------------------------------------------------

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  confState(): ConfState {
    return { voters: this.config.voters.slice(), learners: this.learners.slice() };
  }

  /** Takes `cs` as the membership (it does not touch the leader's progress: see callers). */
  setConfState(cs: ConfState): void {
    this.config = new MajorityConfig(cs.voters);
    this.learners = [...new Set(cs.learners)].filter((id) => !this.config.has(id)).sort((a, b) => a - b);
    this.replicationTargets = [...this.config.voters, ...this.learners].filter((id) => id !== this.id);
  }

  isLearner(): boolean {
    return this.learners.includes(this.id);
  }

  promotable(): boolean {
    return this.config.has(this.id);
  }

  isSingleVoter(): boolean {
    return this.config.voters.length === 1 && this.config.has(this.id);
  }

  /** A committed conf change is not applied yet: our voters may be behind the group's. */
  hasUnappliedConfChange(): boolean {
    const log = this.raftLog;
    if (log.committed <= log.applied) return false;
    // Entries below the first index are in the storage's snapshot: the application has them.
    const from = Math.max(log.applied + 1, log.firstIndex());
    if (from > log.committed) return false;
    for (const e of log.slice(from, log.committed + 1, Number.MAX_SAFE_INTEGER))
      if (e.type === EntryType.ConfChange) return true;
    return false;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  private loadState(hs: HardState): void {
    const last = this.raftLog.lastIndex();
    assert(hs.commit <= last, `hard state commit ${hs.commit} is past the last index ${last}`);
    this.raftLog.commitTo(hs.commit);
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /**
   * The application's applied index after a restart. Whatever was applied was committed, so a
   * commit index that did not survive the crash (commit-only HardState changes need no sync) is
   * raised to it. An applied index below the storage's snapshot is a driver bug: the entries
   * between them are gone from the log, so applying on from there would silently skip them
   * (the driver must install the stored snapshot in its state machine first).
   */
  private restoreApplied(applied: number): void {
    const log = this.raftLog;
    // 0 means "not given" (as in etcd): application starts at the storage's snapshot.
    if (applied === 0) return;
    assert(
      applied >= log.applied,
      () =>
        `${this.id} applied index ${applied} is below the storage snapshot ${log.applied}; install the snapshot first`,
    );
    if (applied === log.applied) return;
    assert(applied <= log.lastIndex(), `applied index ${applied} is past the last index ${log.lastIndex()}`);
    if (applied > log.committed) log.commitTo(applied);
    log.appliedTo(applied);
  }

  // --- role transitions ----------------------------------------------------------------------

  /** Resets everything that belongs to one term and one role. */
  private reset(term: number): void {
    if (term !== this.term) {
      assert(term > this.term, `term must not go backwards: ${this.term} -> ${term}`);
      this.term = term;
      this.vote = 0;
    }
    this.lead = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = 0;
    this.transferCampaignPending = false;
    this.votes.clear();
    this.resetProgress();
    // A deposed leader must never answer a read: its pending reads are dropped here (the
    // requesters time out and retry at the new leader).
    const dropped = this.readOnly.pendingCount() + this.pendingReadIndex.length;
    if (dropped > 0) this.info(`${this.id} dropped ${dropped} pending read(s)`);
    this.readOnly.reset();
    this.pendingReadIndex = [];
    this.pendingReadKeys.clear();
    this.uncommittedBytes = 0;
    this.appendPending = false;
  }

  private resetProgress(): void {
    const last = this.raftLog.lastIndex();
    this.prs = new Map();
    for (const id of [...this.config.voters, ...this.learners]) this.addProgress(id, last + 1);
  }

  private addProgress(id: ReplicaId, next: number): void {
    const pr = new Progress(next, this.maxInflightAppends, this.maxInflightBytes);
    // Our own copy counts only once durable (see appendEntry).
    if (id === this.id) pr.match = this.raftLog.lastStableIndex();
    this.prs.set(id, pr);
  }

  resetRandomizedElectionTimeout(): void {
    // Uniform in [electionTimeout, 2 * electionTimeout): splits votes rarely (§5.2).
    this.randomizedElectionTimeout = this.electionTimeout + this.random.intBelow(this.electionTimeout);
  }

  becomeFollower(term: number, lead: ReplicaId): void {
    this.reset(term);
    this.lead = lead;
    this.role = "follower";
    this.info(`${this.id} became follower at term ${this.term}${lead !== 0 ? ` (leader ${lead})` : ""}`);
  }

  becomePreCandidate(): void {
    assert(this.role !== "leader", "invalid transition leader -> pre-candidate");
    // PreVote changes neither term nor vote: a replica that cannot win does not disrupt anyone.
    this.votes.clear();
    this.lead = 0;
    this.role = "pre-candidate";
    this.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.role !== "leader", "invalid transition leader -> candidate");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
    this.info(`${this.id} became candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.role === "candidate", `invalid transition ${this.role} -> leader`);
    this.reset(this.term);
    this.lead = this.id;
    this.role = "leader";
    const self = this.prs.get(this.id);
    assert(self !== undefined, "leader without its own progress");
    self.becomeReplicate();
    self.recentActive = true;
    // A conf change anywhere in the log we inherit may be uncommitted: no new one until all
    // of it is applied (and, see proposeConfChange, an entry of this term is committed).
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An entry of the new term: committing it commits every earlier entry (§5.4.2, figure 8)
    // and unblocks ReadIndex. Empty, so it never counts against the uncommitted limit.
    this.appendEntry(EntryType.Normal, emptyBytes);
    this.info(`${this.id} became leader at term ${this.term}`);
  }

  // --- ticks ---------------------------------------------------------------------------------

  tick(): void {
    this.termGuard.tick();
    if (this.role === "leader") this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      startElection(this, false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.checkQuorumActive()) return; // stepped down
      if (this.leadTransferee !== 0) this.abortLeaderTransfer("timed out");
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this, undefined);
    }
  }

  /** CheckQuorum: a leader that has not heard from a quorum within an election timeout steps down. */
  private checkQuorumActive(): boolean {
    const active = new Map<ReplicaId, boolean>();
    for (const [id, pr] of this.prs) {
      active.set(id, id === this.id || pr.recentActive);
      if (id !== this.id) pr.recentActive = false;
    }
    if (this.config.voteResult(active) === "won") return true;
    this.warn(`${this.id} stepped down to follower since quorum is not active`);
    this.becomeFollower(this.term, 0);
    return false;
  }

  // --- elections (election.ts) and messages ----------------------------------------------

  /** Starts an election (the election timeout fired, campaign() was called, or TimeoutNow). */
  hup(transfer: boolean): void {
    startElection(this, transfer);
  }

  send(m: Message): void {
    assert(m.to !== this.id, () => `${this.id} sending a message to itself: ${describeMessage(m)}`);
    this.msgs.push(m);
  }

  /**
   * Entry point for every message from a peer: what the message must satisfy on its own and
   * the bounds on its term first (a refused message changes nothing but the refusal count),
   * then the term rules, then the role's handler.
   */
  step(m: Message): void {
    if (m.to !== this.id) {
      this.refuse("inconsistent", m, `it is addressed to ${m.to}`);
      return;
    }
    const inconsistency = messageInconsistency(m, this.id);
    if (inconsistency !== undefined) {
      this.refuse("inconsistent", m, inconsistency);
      return;
    }
    const termRefusal = this.termGuard.check(this.term, m.term);
    if (termRefusal !== undefined) {
      this.refuse(termRefusal, m, this.termGuard.explain(termRefusal, this.term, m.term));
      return;
    }
    // Requests forwarded between replicas (ReadIndex, TransferLeader) carry no term (0): they
    // are questions for whoever leads now, not protocol state, and skip the term rules.
    if (m.term > this.term) {
      const before = this.term;
      if (!stepHigherTerm(this, m)) return;
      if (this.term > before) this.termGuard.spend(this.term - before);
    } else if (m.term !== 0 && m.term < this.term) {
      stepLowerTerm(this, m);
      return;
    }

    switch (m.type) {
      case MessageType.Vote:
      case MessageType.PreVote:
        handleVoteRequest(this, m);
        return;
      default:
        switch (this.role) {
          case "leader":
            stepLeader(this, m);
            return;
          case "candidate":
          case "pre-candidate":
            stepCandidate(this, m);
            return;
          case "follower":
            stepFollower(this, m);
            return;
        }
    }
  }

  /** Drops a peer message that no honest peer could have sent (or whose term we refuse). */
  refuse(reason: RefusalReason, m: Message, why: string): void {
    this.refusals.note(reason, m, why);
  }

  // --- leader: proposals and commit ----------------------------------------------------------

  /**
   * Appends one entry of the current term to the leader's log. The leader does not count it
   * toward a quorum yet: the driver may send it to the followers while writing it locally
   * (Raft thesis §10.2.1), and the leader's copy counts only once that write is durable
   * (entriesPersisted). Counting it earlier would let a quorum of one durable follower and one
   * leader that crashes before its write "commit" an entry that only one disk holds.
   */
  appendEntry(type: EntryType, data: Uint8Array): void {
    const index = this.raftLog.lastIndex() + 1;
    const e: Entry = { term: this.term, index, type, data };
    this.raftLog.append([e]);
  }

  /** The driver made entries up to `index` (of `term`) durable: as leader, count our copy. */
  entriesPersisted(index: number, term: number): void {
    if (this.role !== "leader" || this.raftLog.termOrZero(index) !== term) return;
    const self = this.prs.get(this.id);
    if (self === undefined || !self.maybeUpdate(index)) return;
    if (this.maybeCommit()) {
      releasePendingReadIndex(this);
      bcastAppend(this); // tell the followers the new commit index
    }
  }

  /** Advances the commit index to what a quorum has stored, if that is an entry of our term. */
  maybeCommit(): boolean {
    const mci = this.config.committedIndex((id) => this.prs.get(id)?.match ?? 0);
    return this.raftLog.maybeCommit(mci, this.term);
  }

  /** The refusals every proposal shares: not the leader, not a voter, handing over. */
  private checkCanPropose(): void {
    if (this.role !== "leader") {
      if (this.lead === 0)
        throw new RaftError("PROPOSAL_DROPPED", `replica ${this.id}: no leader known at term ${this.term}`);
      throw new RaftError("NOT_LEADER", `replica ${this.id} is not the leader; leader is ${this.lead}`);
    }
    if (!this.promotable()) throw new RaftError("PROPOSAL_DROPPED", `replica ${this.id} is not a voter`);
    if (this.leadTransferee !== 0) {
      throw new RaftError("TRANSFER_IN_PROGRESS", `leadership transfer to ${this.leadTransferee} in progress`);
    }
  }

  propose(data: Uint8Array): void {
    this.checkCanPropose();
    const bytes = data.byteLength;
    // An empty uncommitted tail always takes one proposal, however large, so that an entry
    // bigger than the limit can still make progress.
    if (
      this.maxUncommittedBytes > 0 &&
      this.uncommittedBytes > 0 &&
      this.uncommittedBytes + bytes > this.maxUncommittedBytes
    ) {
      throw new RaftError(
        "UNCOMMITTED_LIMIT",
        `uncommitted tail ${this.uncommittedBytes} + ${bytes} bytes exceeds ${this.maxUncommittedBytes}`,
      );
    }
    this.uncommittedBytes += bytes;
    this.appendEntry(EntryType.Normal, data);
    // Broadcast once per Ready instead of once per proposal (see flushAppends).
    this.appendPending = true;
  }

  /**
   * Proposes a membership change (conf-change.ts). Refused (RaftError CONF_CHANGE_REFUSED) while
   * an earlier change is not applied, before an entry of this leader's term is committed, and
   * when the change does not fit the current membership; the other refusals are propose()'s.
   */
  proposeConfChange(cc: ConfChange): void {
    this.checkCanPropose();
    const refuse = (why: string): never => {
      throw new RaftError("CONF_CHANGE_REFUSED", `replica ${this.id}: ${describeConfChange(cc)}: ${why}`);
    };
    if (this.pendingConfIndex > this.raftLog.applied)
      refuse(`the change at ${this.pendingConfIndex} is not applied yet (applied ${this.raftLog.applied})`);
    if (!this.committedEntryInCurrentTerm()) refuse(`no entry of term ${this.term} is committed yet`);
    const why = confChangeRefusal(this.confState(), cc);
    if (why !== undefined) refuse(why);
    this.appendEntry(EntryType.ConfChange, encodeConfChange(cc));
    this.pendingConfIndex = this.raftLog.lastIndex();
    this.appendPending = true;
    this.info(`${this.id} proposed ${describeConfChange(cc)} at index ${this.pendingConfIndex}`);
  }

  /**
   * The application applied the conf change entry `data` (RawNode.advance calls this for each
   * one): the membership moves on. A leader starts or stops replicating to the members added or
   * removed, re-counts its commit with the new voters, and, if it removed itself, hands
   * leadership to the most caught-up voter and steps down. Data that is not a valid change, or a
   * change that does not fit, is skipped the same way on every replica.
   */
  applyConfChange(data: Uint8Array): ConfState {
    const cc = decodeConfChange(data);
    if (typeof cc === "string") {
      this.warn(`${this.id} skipped a conf change entry: ${cc}`);
      return this.confState();
    }
    const before = this.confState();
    const why = confChangeRefusal(before, cc);
    if (why !== undefined) {
      this.warn(`${this.id} skipped ${describeConfChange(cc)}: ${why}`);
      return before;
    }
    this.setConfState(applyConfChangeTo(before, cc));
    this.info(
      `${this.id} applied ${describeConfChange(cc)}: voters=(${this.config.voters.join(" ")}) learners=(${this.learners.join(" ")})`,
    );
    if (this.role === "leader") this.leaderAfterConfChange(cc);
    else if (this.transferCampaignPending && !this.hasUnappliedConfChange()) {
      this.transferCampaignPending = false;
      if (this.role === "follower") startElection(this, true);
    }
    return this.confState();
  }

  private leaderAfterConfChange(cc: ConfChange): void {
    const members = new Set([...this.config.voters, ...this.learners]);
    for (const id of [...this.prs.keys()]) if (!members.has(id)) this.prs.delete(id);
    const added = [...members].filter((id) => !this.prs.has(id));
    for (const id of added) this.addProgress(id, this.raftLog.lastIndex() + 1);
    if (this.leadTransferee !== 0 && !this.config.has(this.leadTransferee))
      this.abortLeaderTransfer("the transferee is no longer a voter");
    if (!this.config.has(this.id)) {
      this.stepDownRemoved(cc);
      return;
    }
    // Fewer voters may make a quorum of what is already stored; a new member needs the log
    // (its first append probes where its log matches ours).
    if (this.maybeCommit()) {
      releasePendingReadIndex(this);
      bcastAppend(this);
    } else for (const id of added) maybeSendAppend(this, id, true);
  }

  /** A leader that applied its own removal (or demotion) hands over and steps down. */
  private stepDownRemoved(cc: ConfChange): void {
    let best: ReplicaId = 0;
    let bestMatch = -1;
    for (const id of this.config.voters) {
      const match = this.prs.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    const last = this.raftLog.lastIndex();
    if (best !== 0 && bestMatch === last) sendTimeoutNow(this, best);
    this.info(
      `${this.id} steps down after ${describeConfChange(cc)}` +
        (best !== 0 && bestMatch === last ? `; ${best} is caught up and campaigns now` : "; the voters elect a leader"),
    );
    this.becomeFollower(this.term, 0);
  }

  /** Sends the appends owed for proposals made since the last Ready (one message per follower). */
  flushAppends(): void {
    if (!this.appendPending) return;
    this.appendPending = false;
    // Only followers still lacking entries get an append: one that already received the new
    // entries (sent when an ack arrived in between) gets nothing.
    if (this.role === "leader") bcastAppend(this, false);
  }

  /** Committed entries were applied: their bytes leave the uncommitted tail. */
  reduceUncommittedBytes(ents: readonly Entry[]): void {
    if (this.role !== "leader" || this.uncommittedBytes === 0) return;
    let bytes = 0;
    for (const e of ents) bytes += e.data.byteLength;
    // Entries of earlier terms were never counted: clamp rather than go negative.
    this.uncommittedBytes = bytes >= this.uncommittedBytes ? 0 : this.uncommittedBytes - bytes;
  }

  // --- API requests --------------------------------------------------------------------------

  readIndex(context: Uint8Array): void {
    const m = newMessage(MessageType.ReadIndex, this.id, this.id, 0);
    m.context = context;
    this.stepLocalRequest(m, "ReadIndex");
  }

  transferLeadership(to: ReplicaId): void {
    const m = newMessage(MessageType.TransferLeader, this.id, this.id, 0);
    m.index = to;
    this.stepLocalRequest(m, `leadership transfer to ${to}`);
  }

  /** A request from this replica's own application: the leader handles it, a follower forwards
   * it (one hop), anyone else has no leader to ask and drops it (the caller times out). */
  private stepLocalRequest(m: Message, what: string): void {
    switch (this.role) {
      case "leader":
        stepLeader(this, m);
        return;
      case "follower":
        stepFollower(this, m);
        return;
      default:
        this.info(`${this.id} no leader at term ${this.term}; dropping ${what}`);
    }
  }

  abortLeaderTransfer(why: string): void {
    if (this.leadTransferee === 0) return;
    this.info(`${this.id} aborted leadership transfer to ${this.leadTransferee}: ${why}`);
    this.leadTransferee = 0;
  }

  reportUnreachable(id: ReplicaId): void {
    if (this.role !== "leader") return;
    const pr = this.prs.get(id);
    // Appends in flight were probably lost: fall back to probing from the last known match.
    if (pr !== undefined && pr.state === "replicate") {
      pr.becomeProbe();
      this.debug(`${this.id} failed to send to ${id}; back to probe at next=${pr.next}`);
    }
  }

  reportSnapshot(id: ReplicaId, ok: boolean): void {
    if (this.role !== "leader") return;
    const pr = this.prs.get(id);
    if (pr === undefined || pr.state !== "snapshot") return;
    if (!ok) pr.pendingSnapshot = 0; // probe from the match, not from the snapshot never applied
    pr.becomeProbe();
    // Success: wait for the follower's append response. Failure: retry after a heartbeat.
    pr.probeSent = true;
    this.info(`${this.id} snapshot to ${id} ${ok ? "succeeded" : "failed"}; probing at next=${pr.next}`);
  }
}

function validateConfig(cfg: RaftConfig): void {
  assert(Number.isSafeInteger(cfg.id) && cfg.id > 0, `raft: invalid replica id ${cfg.id}`);
  assert(cfg.heartbeatTicks > 0, "raft: heartbeatTicks must be positive");
  assert(cfg.electionTicks > cfg.heartbeatTicks, "raft: electionTicks must exceed heartbeatTicks");
  assert(cfg.maxInflightAppends > 0, "raft: maxInflightAppends must be positive");
  assert(cfg.maxAppendBytes > 0, "raft: maxAppendBytes must be positive");
  assert(cfg.maxUncommittedBytes >= 0, "raft: maxUncommittedBytes must not be negative");
  assert(
    cfg.maxTerm === undefined || (Number.isSafeInteger(cfg.maxTerm) && cfg.maxTerm > 0),
    "raft: maxTerm must be a positive safe integer",
  );
  assert(
    cfg.maxTermJump === undefined || (Number.isSafeInteger(cfg.maxTermJump) && cfg.maxTermJump > 0),
    "raft: maxTermJump must be a positive safe integer",
  );
}
