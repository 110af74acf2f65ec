// The driver-facing surface of one replica (etcd's RawNode): feed it ticks, messages and
// requests; collect a Ready; persist, send, apply; then advance(). One Ready is outstanding at a
// time: hasReady() is false and ready() refuses until advance() acknowledges the previous one.
// Messages may still be stepped between ready() and advance(); their effects go in the next Ready.
//
// Persistence contract (see Ready in types.ts): a Ready's snapshot, entries and hardState must be
// durable before any of its messages is sent. That is what makes a vote or an append
// acknowledgement a promise: a replica that crashes before persisting never sent them.

import { assert } from "../base/assert.js";
import type { ConfChange } from "./conf-change.js";
import { Raft } from "./raft.js";
import { EntryType } from "./types.js";
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  RaftConfig,
  RawNodeApi,
  Ready,
  ReadState,
  ReplicaId,
  SoftState,
  Status,
  Storage,
} from "./types.js";
import { committedEntriesBytesPerReadyMax } from "./limits.js";

export class RawNode implements RawNodeApi {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | undefined = undefined;
  private readonly maxCommittedBytesPerReady: number;

  constructor(config: RaftConfig, storage: Storage) {
    this.raft = new Raft(config, storage);
    this.maxCommittedBytesPerReady = config.maxCommittedBytesPerReady ?? committedEntriesBytesPerReadyMax;
    this.prevSoft = this.raft.softState();
    this.prevHard = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  campaign(): void {
    this.raft.hup(false);
  }

  step(m: Message): void {
    this.raft.step(m);
  }

  propose(data: Uint8Array): void {
    this.raft.propose(data);
  }

  readIndex(context: Uint8Array): void {
    this.raft.readIndex(context);
  }

  /** A membership change (conf-change.ts); throws RaftError like propose, or CONF_CHANGE_REFUSED. */
  proposeConfChange(cc: ConfChange): void {
    this.raft.proposeConfChange(cc);
  }

  /** The membership as of the last applied conf change (what a driver persists with it). */
  confState(): ConfState {
    return this.raft.confState();
  }

  transferLeadership(to: ReplicaId): void {
    this.raft.transferLeadership(to);
  }

  reportUnreachable(id: ReplicaId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: ReplicaId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  hasReady(): boolean {
    if (this.outstanding !== undefined) return false;
    const r = this.raft;
    if (r.appendPending && r.role === "leader") return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    const log = r.raftLog;
    if (log.unstable.entries.length > 0 || log.unstable.snapshot !== undefined) return true;
    if (log.hasNextCommittedEntries()) return true;
    // Field comparisons, no allocation: the driver polls this for every group every turn.
    if (r.lead !== this.prevSoft.leader || r.role !== this.prevSoft.role) return true;
    const hs = this.prevHard;
    return r.term !== hs.term || r.vote !== hs.vote || log.committed !== hs.commit;
  }

  ready(): Ready {
    assert(this.outstanding === undefined, "ready() called before advance() of the previous Ready");
    const r = this.raft;
    r.flushAppends();
    const log = r.raftLog;
    const entries = log.unstableEntries().slice();
    const snapshot = log.unstable.snapshot;
    const committedEntries = log.nextCommittedEntries(this.maxCommittedBytesPerReady);
    const messages = r.msgs;
    r.msgs = [];
    const readStates: ReadState[] = r.readStates;
    r.readStates = [];
    const rd: Ready = { entries, committedEntries, messages, readStates, mustSync: false, sendFirst: false };
    const ss = r.softState();
    if (ss.leader !== this.prevSoft.leader || ss.role !== this.prevSoft.role) {
      rd.softState = ss;
      this.prevSoft = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHard)) {
      rd.hardState = hs;
      // A changed term or vote is a promise to peers; new entries may be acknowledged. Both
      // must survive a crash. A commit index alone can be recovered from the peers.
      rd.mustSync = hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote;
      this.prevHard = hs;
    }
    if (snapshot !== undefined) rd.snapshot = snapshot;
    // A leader whose term and vote are already durable promises nothing about its own log in
    // its messages (its copy counts toward commit only after advance()): they may go out while
    // this Ready is written (thesis §10.2.1). Anyone else's messages may acknowledge the
    // entries or the vote of this Ready, so they wait for its write.
    rd.sendFirst = r.role === "leader" && !rd.mustSync && snapshot === undefined;
    if (entries.length > 0 || snapshot !== undefined) rd.mustSync = true;
    this.outstanding = rd;
    return rd;
  }

  advance(rd: Ready): void {
    assert(this.outstanding === rd, "advance() must be given the Ready returned by the last ready()");
    this.outstanding = undefined;
    const log = this.raft.raftLog;
    const lastEntry: Entry | undefined = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) {
      log.stableTo(lastEntry.index, lastEntry.term);
      this.raft.entriesPersisted(lastEntry.index, lastEntry.term);
    }
    if (rd.snapshot !== undefined) {
      const snapIndex = rd.snapshot.metadata.index;
      log.stableSnapTo(snapIndex);
      // The application installed the snapshot: it has "applied" everything up to it.
      if (snapIndex > log.applied) log.appliedTo(snapIndex);
    }
    const lastCommitted: Entry | undefined = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      // The application applied these entries: conf changes among them take effect now, in
      // log order, each at its own index (a leader proposes the next only after this).
      for (const e of rd.committedEntries) {
        if (e.type !== EntryType.ConfChange) continue;
        log.appliedTo(e.index);
        this.raft.applyConfChange(e.data);
      }
      log.appliedTo(lastCommitted.index);
      this.raft.reduceUncommittedBytes(rd.committedEntries);
    }
  }

  status(): Status {
    const r = this.raft;
    const s: Status = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(),
      leadTransferee: r.leadTransferee,
      refused: r.refusals.snapshot(),
    };
    if (r.role === "leader") {
      s.progress = new Map();
      for (const [id, pr] of r.prs) s.progress.set(id, pr.status());
    }
    return s;
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
