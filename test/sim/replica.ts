// One simulated replica: a RawNode over a MemoryStorage (the log as the process sees it, page
// cache included), a SimDisk (what survives a crash) and a tiny state machine (applied index and
// a hash of the applied entries). It drives its Ready exactly as the persistence contract says
// and reports everything the safety checkers need.

import type { Prng } from "../../src/base/prng.js";
import { applyConfChangeTo, decodeConfChange } from "../../src/raft/conf-change.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { RawNode } from "../../src/raft/raw-node.js";
import {
  type ConfState,
  EntryType,
  type Message,
  type RaftConfig,
  type Ready,
  type ReplicaId,
  type Role,
} from "../../src/raft/types.js";
import type { LogView } from "./checkers/leader-completeness.js";
import { unknownTerm } from "./checkers/log-matching.js";
import type { SafetyChecker } from "./checkers/safety-checker.js";
import type { InFlight } from "./network.js";
import { type AppState, confPayload, decodeAppState, decodeId, encodeAppState, nextAppHash } from "./payload.js";
import { SimDisk } from "./sim-disk.js";
import { SafetyViolation } from "./violation.js";

/** A replica produces at most this many Readys in one step; more means the core never settles. */
const readysPerStepMax = 64;

export type RaftTuning = Omit<RaftConfig, "id" | "peers" | "random" | "applied" | "logger">;

/** What a replica needs from the simulation around it. */
export interface ReplicaHost {
  readonly checker: SafetyChecker;
  send(m: Message, senderIncarnation: number): void;
  applied(replica: SimReplica, index: number, payload: number): void;
  readAnswered(replica: SimReplica, context: number, index: number): void;
  leads(replica: SimReplica, term: number): void;
  /** A leader advanced its commit index (the nemesis may strike at this delicate moment). */
  leaderCommitted(replica: SimReplica): void;
  /** Shows a Ready in --verbose traces. */
  readyDetail(replica: SimReplica, rd: Ready): void;
}

export class SimReplica {
  readonly disk = new SimDisk();
  node: RawNode | undefined;
  storage: MemoryStorage | undefined;
  app: AppState = this.disk.image.app;
  role: Role = "follower";
  leaderHint: ReplicaId = 0;
  term = 0;
  incarnation = 0;
  /** Coverage counters: log suffixes overwritten by a new leader, snapshots installed. */
  truncations = 0;
  installs = 0;
  /** A frozen process (a long GC pause, SIGSTOP): no ticks, no Readys, messages wait in `inbox`. */
  pausedUntil = 0;
  readonly inbox: InFlight[] = [];
  private commitSeen = 0;
  private ledTerm = -1;
  /** Votes granted to this replica as a candidate, in `votesTerm` (for the quorum check). */
  private votesTerm = 0;
  private readonly votes = new Set<ReplicaId>();

  constructor(
    readonly id: ReplicaId,
    /** The voters it starts with: the group's first members, or (for a replica that joins
     * later) the voters at the time, itself not among them. */
    private readonly peers: ReplicaId[],
    private readonly host: ReplicaHost,
    /** Test-only sabotage: Raft writes are never synced (see SimOptions.brokenDurability). */
    private readonly brokenDurability = false,
  ) {}

  get up(): boolean {
    return this.node !== undefined;
  }

  paused(now: number): boolean {
    return now < this.pausedUntil;
  }

  /** (Re)starts from what is on disk, as a fresh process would. */
  start(tuning: RaftTuning, random: Prng): void {
    const img = this.disk.image;
    const storage = new MemoryStorage();
    if (img.snapshot !== undefined) storage.applySnapshot(img.snapshot);
    if (img.entries.length > 0) storage.append(img.entries.slice());
    storage.setHardState(img.hardState);
    // The membership as of the applied index, as the application persisted it.
    if (img.app.conf !== undefined) storage.setConfState(img.app.conf);
    this.storage = storage;
    this.app = img.app;
    this.node = new RawNode({ ...tuning, id: this.id, peers: this.peers, random, applied: img.app.applied }, storage);
    this.role = "follower";
    this.leaderHint = 0;
    this.term = img.hardState.term;
    this.commitSeen = img.hardState.commit;
    this.ledTerm = -1;
    this.votes.clear();
    this.incarnation++;
    this.host.checker.hardState(this.id, img.hardState.term, img.hardState.vote);
    this.host.checker.restore(this.id, this.app.applied, this.app.hash, "restart");
  }

  /** Power loss: the process and the page cache are gone; `keptUnsynced` writes made it to disk. */
  crash(keptUnsynced: number): void {
    this.disk.crash(keptUnsynced);
    this.node = undefined;
    this.storage = undefined;
    this.pausedUntil = 0;
    this.inbox.length = 0;
    this.role = "follower";
    this.leaderHint = 0;
  }

  /** Handles every pending Ready: persist, then send, then apply, then advance. */
  handleReadys(): void {
    const node = this.node;
    if (node === undefined) return;
    for (let n = 0; node.hasReady(); n++) {
      if (n >= readysPerStepMax) throw new Error(`replica ${this.id} produced ${n} Readys in one step`);
      const rd = node.ready();
      this.host.readyDetail(this, rd);
      this.persist(rd);
      for (const m of rd.messages) this.host.send(m, this.incarnation);
      this.apply(rd);
      node.advance(rd);
    }
  }

  private persist(rd: Ready): void {
    const storage = this.storage!;
    const checker = this.host.checker;
    if (rd.softState !== undefined) {
      this.role = rd.softState.role;
      this.leaderHint = rd.softState.leader;
    }
    let app: AppState | undefined;
    if (rd.snapshot !== undefined) {
      storage.applySnapshot(rd.snapshot);
      app = { ...decodeAppState(rd.snapshot.data), conf: rd.snapshot.metadata.confState };
      if (app.applied !== rd.snapshot.metadata.index) {
        throw new SafetyViolation(
          "snapshot-data",
          `snapshot at ${rd.snapshot.metadata.index} holds a state applied to ${app.applied}`,
        );
      }
      this.app = app;
      this.installs++;
      checker.restore(this.id, app.applied, app.hash, "snapshot");
    }
    if (rd.entries.length > 0) {
      if (rd.entries[0]!.index <= storage.lastIndex()) this.truncations++;
      storage.append(rd.entries);
      let prevTerm = termOrUnknown(storage, rd.entries[0]!.index - 1);
      for (const e of rd.entries) {
        checker.persist(this.id, e.index, e.term, prevTerm, entryPayload(e.type, e.data));
        prevTerm = e.term;
      }
    }
    if (rd.hardState !== undefined) {
      const hs = rd.hardState;
      if (hs.commit < this.commitSeen) {
        throw new SafetyViolation(
          "state-machine-safety",
          `replica ${this.id} moved its commit index back from ${this.commitSeen} to ${hs.commit}`,
        );
      }
      storage.setHardState(hs);
      this.term = hs.term;
      checker.hardState(this.id, hs.term, hs.vote);
    }
    this.disk.write(
      { kind: "raft", snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState, app },
      rd.mustSync && !this.brokenDurability,
    );
    if (rd.hardState !== undefined && rd.hardState.commit > this.commitSeen) {
      this.commitSeen = rd.hardState.commit;
      const t = termOrUnknown(storage, this.commitSeen);
      if (t !== unknownTerm) checker.commit(this.id, this.term, this.commitSeen, t);
      if (this.role === "leader") this.host.leaderCommitted(this);
    }
    if (this.role === "leader" && this.term !== this.ledTerm) {
      this.ledTerm = this.term;
      const granted = new Set(this.votesTerm === this.term ? this.votes : []);
      granted.add(this.id);
      checker.elected(this.term, { leader: this.id, voters: this.node!.confState().voters, granted });
      checker.leader(this.id, this.term, logView(storage));
      this.host.leads(this, this.term);
    }
  }

  /** A granted vote of `from` for this replica reached it (the simulation tells it). */
  voteGranted(term: number, from: ReplicaId): void {
    if (term < this.votesTerm) return; // a late answer to an older campaign
    if (term > this.votesTerm) {
      this.votesTerm = term;
      this.votes.clear();
    }
    this.votes.add(from);
  }

  /** The membership as of the applied index. */
  confState(): ConfState {
    return this.app.conf ?? { voters: this.peers.slice(), learners: [] };
  }

  private apply(rd: Ready): void {
    if (rd.committedEntries.length > 0) {
      let { applied, hash } = this.app;
      let conf = this.confState();
      for (const e of rd.committedEntries) {
        const payload = entryPayload(e.type, e.data);
        if (e.type === EntryType.ConfChange) {
          // The same rule the core applies in advance(); persisted with the applied index.
          const cc = decodeConfChange(e.data);
          if (typeof cc !== "string") conf = applyConfChangeTo(conf, cc);
        }
        this.host.checker.apply(this.id, e.index, e.term, payload);
        applied = e.index;
        hash = nextAppHash(hash, e.term, payload);
        this.host.applied(this, e.index, payload);
      }
      this.app = { applied, hash, conf };
      this.disk.write({ kind: "app", app: this.app }, false);
    }
    for (const rs of rd.readStates) this.host.readAnswered(this, decodeId(rs.context), rs.index);
  }

  /** The application snapshots its state and compacts the log up to `behind` entries before it. */
  snapshot(behind: number): { at: number; compactedTo: number } | undefined {
    const storage = this.storage;
    if (storage === undefined) return undefined;
    const at = this.app.applied;
    if (at <= storage.snapshot().metadata.index) return undefined;
    const snap = storage.createSnapshot(at, this.confState(), encodeAppState(this.app));
    const compactTo = at - behind;
    if (compactTo >= storage.firstIndex()) storage.compact(compactTo);
    this.disk.write({ kind: "snapshot", snapshot: snap }, false);
    return { at, compactedTo: storage.firstIndex() - 1 };
  }
}

function entryPayload(type: EntryType, data: Uint8Array): number {
  if (type === EntryType.ConfChange) {
    const cc = decodeConfChange(data);
    if (typeof cc === "string") throw new SafetyViolation("entry-data", `a conf change nobody proposed: ${cc}`);
    return confPayload(cc);
  }
  if (type !== EntryType.Normal) throw new SafetyViolation("entry-data", `an entry of type ${type} nobody proposed`);
  return decodeId(data);
}

function termOrUnknown(storage: MemoryStorage, index: number): number {
  if (index < storage.firstIndex() - 1 || index > storage.lastIndex()) return unknownTerm;
  return storage.term(index);
}

function logView(storage: MemoryStorage): LogView {
  return {
    lastIndex: storage.lastIndex(),
    termAt: (i) => (termOrUnknown(storage, i) === unknownTerm ? undefined : storage.term(i)),
  };
}
