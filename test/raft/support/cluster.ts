// A programmatic in-memory cluster of RawNodes for unit and property tests. It is a driver that
// follows the Ready contract (persist, then send, then apply, then advance), with hooks to drop,
// reorder and duplicate messages, crash and restart replicas from their persisted storage, and
// checkers for the safety properties of the paper.

import { persistReady } from "./ready-driver.js";
import { expect } from "vitest";
import { seededPrng } from "../../../src/base/prng.js";
import type { Prng } from "../../../src/base/prng.js";
import { describeMessage } from "../../../src/raft/describe.js";
import { MemoryStorage } from "../../../src/raft/memory-storage.js";
import { RawNode } from "../../../src/raft/raw-node.js";
import { MessageType, RaftError } from "../../../src/raft/types.js";
import type { Entry, HardState, Message, RaftConfig, ReadState, ReplicaId, Status } from "../../../src/raft/types.js";

/** Ready rounds processAll allows before deeming the core stuck. */
const processAllRoundsMax = 1_000;

export interface ClusterOptions {
  seed?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTicks?: number;
  heartbeatTicks?: number;
  maxInflightAppends?: number;
  maxAppendBytes?: number;
  maxUncommittedBytes?: number;
}

export interface Member {
  id: ReplicaId;
  storage: MemoryStorage;
  node: RawNode | undefined;
  applied: Entry[];
  readStates: ReadState[];
  restarts: number;
  logs: string[];
  /** The HardState as of the last synced write: a crash loses unsynced commit-only updates. */
  syncedHardState: HardState;
}

export type MessageFilter = (m: Message) => boolean;

export class Cluster {
  readonly members = new Map<ReplicaId, Member>();
  pending: Message[] = [];
  /** term -> leader, as observed after every step; two leaders in one term throw at once. */
  readonly leaders = new Map<number, ReplicaId>();
  /** index -> entry applied at that index by any replica (state machine safety). */
  readonly appliedAt = new Map<number, Entry>();
  private readonly opts: Required<ClusterOptions>;
  private readonly ids: ReplicaId[];

  constructor(n: number, opts: ClusterOptions = {}) {
    this.opts = {
      seed: opts.seed ?? 1,
      preVote: opts.preVote ?? false,
      checkQuorum: opts.checkQuorum ?? false,
      electionTicks: opts.electionTicks ?? 10,
      heartbeatTicks: opts.heartbeatTicks ?? 1,
      maxInflightAppends: opts.maxInflightAppends ?? 64,
      maxAppendBytes: opts.maxAppendBytes ?? 1024 * 1024,
      maxUncommittedBytes: opts.maxUncommittedBytes ?? 0,
    };
    this.ids = Array.from({ length: n }, (_, i) => i + 1);
    for (const id of this.ids) {
      const m: Member = {
        id,
        storage: new MemoryStorage(),
        node: undefined,
        applied: [],
        readStates: [],
        restarts: 0,
        logs: [],
        syncedHardState: { term: 0, vote: 0, commit: 0 },
      };
      m.node = new RawNode(this.config(m, 0), m.storage);
      this.members.set(id, m);
    }
  }

  config(m: Member, applied: number): RaftConfig {
    const o = this.opts;
    return {
      id: m.id,
      peers: this.ids,
      electionTicks: o.electionTicks,
      heartbeatTicks: o.heartbeatTicks,
      random: seededPrng(o.seed * 7919 + m.id * 31 + m.restarts),
      applied,
      maxInflightAppends: o.maxInflightAppends,
      maxAppendBytes: o.maxAppendBytes,
      maxUncommittedBytes: o.maxUncommittedBytes,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      logger: {
        debug: () => undefined,
        info: (s) => m.logs.push(s),
        warn: (s) => m.logs.push(s),
      },
    };
  }

  member(id: ReplicaId): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: ReplicaId): RawNode {
    const n = this.member(id).node;
    if (n === undefined) throw new Error(`member ${id} is down`);
    return n;
  }

  status(id: ReplicaId): Status {
    return this.node(id).status();
  }

  /** Runs every live replica's Ready cycle until none has one. A core that never stops
   * producing Readys (e.g. a HardState it never considers saved) fails the test instead of
   * hanging it: without message delivery in between, a few rounds always settle. */
  processAll(): void {
    for (let round = 0, progressed = true; progressed; round++) {
      if (round === processAllRoundsMax) throw new Error(`Readys did not settle within ${processAllRoundsMax} rounds`);
      progressed = false;
      for (const id of this.ids) {
        if (this.processReady(id)) progressed = true;
      }
    }
  }

  processReady(id: ReplicaId): boolean {
    const m = this.member(id);
    const node = m.node;
    if (node === undefined || !node.hasReady()) return false;
    const rd = node.ready();
    // A leader's appends may leave before its own write (thesis §10.2.1).
    if (rd.sendFirst) for (const msg of rd.messages) this.pending.push(msg);
    // 1. persist
    persistReady(m.storage, rd);
    if (rd.mustSync) m.syncedHardState = m.storage.hardStateCopy();
    // 2. send
    if (!rd.sendFirst) for (const msg of rd.messages) this.pending.push(msg);
    // 3. apply
    if (rd.snapshot !== undefined) m.applied = m.applied.filter((e) => e.index <= rd.snapshot!.metadata.index);
    for (const e of rd.committedEntries) this.recordApplied(m, e);
    for (const rs of rd.readStates) m.readStates.push(rs);
    // 4. advance
    node.advance(rd);
    this.observeLeaders();
    return true;
  }

  private recordApplied(m: Member, e: Entry): void {
    const seen = this.appliedAt.get(e.index);
    if (seen === undefined) this.appliedAt.set(e.index, e);
    else if (seen.term !== e.term || !sameBytes(seen.data, e.data)) {
      throw new Error(
        `state machine safety: replica ${m.id} applied ${e.term}/${e.index}, another applied ${seen.term}/${seen.index}`,
      );
    }
    m.applied.push(e);
  }

  observeLeaders(): void {
    for (const m of this.members.values()) {
      if (m.node === undefined) continue;
      const st = m.node.status();
      if (st.softState.role !== "leader") continue;
      const prev = this.leaders.get(st.hardState.term);
      if (prev !== undefined && prev !== m.id) {
        throw new Error(`election safety: ${prev} and ${m.id} both lead term ${st.hardState.term}`);
      }
      if (prev === undefined) {
        this.leaders.set(st.hardState.term, m.id);
        this.checkLeaderCompleteness(m);
      }
    }
  }

  /** A new leader's log holds every entry applied anywhere (leader completeness). */
  private checkLeaderCompleteness(leader: Member): void {
    for (const [index, e] of this.appliedAt) {
      const t = termIn(leader, index);
      // Entries compacted into the leader's snapshot are covered by it.
      if (t === undefined) continue;
      if (t !== e.term) {
        throw new Error(`leader completeness: leader ${leader.id} has term ${t} at ${index}, applied was ${e.term}`);
      }
    }
  }

  /** Delivers one pending message (by position); returns false if none. */
  /** A burst of up to `count` deliveries in random order: 1 in 20 lost, 1 in 20 duplicated
   * (delivered now and left queued), and every message `reachable` rejects is lost. */
  deliverRandom(rng: Prng, count: number, reachable: MessageFilter): void {
    for (let k = 0; k < count && this.pending.length > 0; k++) {
      const i = rng.intBelow(this.pending.length);
      const m = this.pending[i] as Message;
      const fate = rng.intBelow(20);
      if (fate === 0 || !reachable(m)) this.drop(i);
      else if (fate === 1) this.deliver(m);
      else this.deliverAt(i);
    }
  }

  deliverAt(i: number): boolean {
    const [m] = this.pending.splice(i, 1);
    if (m === undefined) return false;
    this.deliver(m);
    return true;
  }

  deliver(m: Message): void {
    const to = this.members.get(m.to)?.node;
    if (to === undefined) {
      this.lost(m);
      return;
    }
    to.step(m);
    // The transport tells the sender how a snapshot went, as a real one does when the stream
    // carrying it completes or fails.
    if (m.type === MessageType.Snapshot) this.members.get(m.from)?.node?.reportSnapshot(m.to, true);
    this.observeLeaders();
  }

  /** Drops pending message i (lost in the network). */
  drop(i: number): void {
    const [m] = this.pending.splice(i, 1);
    if (m !== undefined) this.lost(m);
  }

  private lost(m: Message): void {
    if (m.type === MessageType.Snapshot) this.members.get(m.from)?.node?.reportSnapshot(m.to, false);
  }

  /**
   * Delivers and processes until quiet; messages the filter rejects are dropped, and `rewrite`
   * may replace a message in flight (e.g. shorten an append, as a smaller size cap would).
   */
  stabilize(keep: MessageFilter = () => true, rewrite: (m: Message) => Message = (m) => m, roundsMax = 1000): void {
    for (let round = 0; round < roundsMax; round++) {
      this.processAll();
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      for (const m of batch) {
        if (keep(m)) this.deliver(rewrite(m));
        else this.lost(m);
      }
    }
    throw new Error("cluster did not stabilize");
  }

  tick(id: ReplicaId, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).tick();
  }

  /**
   * The process dies: memory is lost, and so is a HardState written without sync (commit-only
   * changes). Everything persisted with mustSync survives.
   */
  crash(id: ReplicaId): void {
    const member = this.member(id);
    member.node = undefined;
    member.storage.setHardState(member.syncedHardState);
    for (const m of this.pending) if (m.to === id) this.lost(m);
    this.pending = this.pending.filter((m) => m.to !== id);
  }

  /**
   * Takes a Ready and dies before persisting any of it: nothing of it was applied, and nothing
   * sent unless it was `sendFirst` (a leader's appends, which leave while it writes).
   */
  crashMidReady(id: ReplicaId): void {
    const node = this.member(id).node;
    if (node?.hasReady() === true) {
      const rd = node.ready();
      if (rd.sendFirst) for (const msg of rd.messages) this.pending.push(msg);
    }
    this.crash(id);
  }

  restart(id: ReplicaId): void {
    const m = this.member(id);
    if (m.node !== undefined) throw new Error(`member ${id} is up`);
    m.restarts++;
    m.node = new RawNode(this.config(m, appliedIndex(m)), m.storage);
  }

  /** The application snapshots its state at its applied index and the log is compacted there. */
  compact(id: ReplicaId): void {
    const m = this.member(id);
    const at = appliedIndex(m);
    if (at <= m.storage.snapshot().metadata.index) return;
    m.storage.createSnapshot(at, { voters: this.ids.slice(), learners: [] }, bytes(`state@${at}`));
    m.storage.compact(at);
  }

  leader(): ReplicaId {
    for (const m of this.members.values()) {
      if (m.node?.status().softState.role === "leader") return m.id;
    }
    return 0;
  }

  /** Log matching: if two logs hold an entry with the same index and term, they agree up to it. */
  checkLogMatching(): void {
    const live = [...this.members.values()];
    for (const a of live) {
      for (const b of live) {
        if (a.id >= b.id) continue;
        const last = Math.min(a.storage.lastIndex(), b.storage.lastIndex());
        const first = Math.max(a.storage.firstIndex(), b.storage.firstIndex());
        let matched = false;
        for (let i = last; i >= first; i--) {
          const ta = a.storage.term(i);
          const tb = b.storage.term(i);
          if (!matched && ta === tb) matched = true;
          if (matched && ta !== tb) {
            throw new Error(`log matching: ${a.id} and ${b.id} agree at a later index but differ at ${i}`);
          }
          if (matched) {
            const [ea] = a.storage.entries(i, i + 1, Number.MAX_SAFE_INTEGER);
            const [eb] = b.storage.entries(i, i + 1, Number.MAX_SAFE_INTEGER);
            if (ea === undefined || eb === undefined || !sameBytes(ea.data, eb.data)) {
              throw new Error(`log matching: ${a.id} and ${b.id} hold different data at ${i}`);
            }
          }
        }
      }
    }
  }

  describePending(): string[] {
    return this.pending.map(describeMessage);
  }
}

function appliedIndex(m: Member): number {
  const last = m.applied[m.applied.length - 1];
  return Math.max(last === undefined ? 0 : last.index, m.storage.snapshot().metadata.index);
}

function termIn(m: Member, index: number): number | undefined {
  const s = m.storage;
  // The leader's newest entries may still be unstable: its status knows the last index, but
  // the entries up to what it had persisted are what we can inspect here.
  if (index < s.firstIndex() - 1 || index > s.lastIndex()) return undefined;
  return s.term(index);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function text(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

/** A plain test configuration (3 voters, no PreVote/CheckQuorum, no byte limits) with overrides. */
export function testRaftConfig(id: ReplicaId, over: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    peers: [1, 2, 3],
    electionTicks: 10,
    heartbeatTicks: 1,
    random: seededPrng(id),
    maxInflightAppends: 8,
    maxAppendBytes: 1 << 20,
    maxUncommittedBytes: 0,
    preVote: false,
    checkQuorum: false,
    ...over,
  };
}

/** Runs `f`, ignoring RaftError refusals (NOT_LEADER, TRANSFER_IN_PROGRESS, ...), which random
 * drivers provoke on purpose; anything else (an assertion) still fails the test. */
export function tolerateRefusals(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof RaftError)) throw e;
  }
}

/** Every ReadState answered since the last call must be at least the index recorded for its
 * context when the read was asked (a linearizable read point). Consumes the ReadStates. */
export function checkReadStates(
  c: Cluster,
  ids: readonly ReplicaId[],
  readIssuedAt: ReadonlyMap<string, number>,
  seed: number,
): void {
  for (const id of ids) {
    for (const rs of c.member(id).readStates.splice(0)) {
      const ctx = text(rs.context);
      expect(rs.index, `read ${ctx} (seed ${seed})`).toBeGreaterThanOrEqual(readIssuedAt.get(ctx) ?? Infinity);
    }
  }
}

export type { Prng };
