// The pure Raft core's data types and public surface (etcd RawNode shape). These mirror
// proto/raft/v1/raft.proto field for field; a codec at the transport edge converts. Terms,
// indexes and replica ids are JS numbers (safe to 2^53). Replica id 0 means "none".

import type { Prng } from "../base/prng.js";

export type ReplicaId = number;

export enum EntryType {
  Normal = 1,
  ConfChange = 2, // a membership change (conf-change.ts), applied by RawNode.advance
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: ReplicaId; // 0 = none
  commit: number;
}

export interface ConfState {
  voters: ReplicaId[];
  learners: ReplicaId[]; // members that receive the log but do not vote
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export enum MessageType {
  Append = 1,
  AppendResponse = 2,
  Vote = 3,
  VoteResponse = 4,
  PreVote = 5,
  PreVoteResponse = 6,
  Heartbeat = 7,
  HeartbeatResponse = 8,
  Snapshot = 9,
  TimeoutNow = 10,
  ReadIndex = 11, // forwarded follower -> leader with term 0; context = the request's
  ReadIndexResponse = 12, // index = the read point; context echoed
  TransferLeader = 13, // forwarded follower -> leader with term 0; index = the transferee id
}

export interface Message {
  type: MessageType;
  to: ReplicaId;
  from: ReplicaId;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  hintTerm: number;
  // ReadIndex request context. It also marks the Vote requests of a leadership-transfer election
  // (see campaignTransferContext in messages.ts): voters inside their CheckQuorum lease grant those.
  context: Uint8Array;
}

export type Role = "follower" | "pre-candidate" | "candidate" | "leader";

export interface SoftState {
  leader: ReplicaId; // 0 = unknown
  role: Role;
}

/** A linearizable read point: once applied >= index, the read for `context` may be served. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

/**
 * What the driver must do, in this order (the persistence contract):
 *  1. persist `snapshot` (if any), `entries` (appending, truncating any conflicting suffix) and
 *     `hardState` (if any) in ONE atomic write, durably (synced when `mustSync`): term and vote
 *     are never durable without the log they were granted against, nor the other way round;
 *  2. only then send `messages` (a vote or an append acknowledgement promises durable state),
 *     except when `sendFirst`: then they may be sent before or during that write;
 *  3. install `snapshot` (if any) in the state machine, then apply `committedEntries` in order;
 *     a `readStates` entry may be served only once the applied index reaches its index, which
 *     may be in a later Ready;
 *  4. call advance(ready).
 */
export interface Ready {
  softState?: SoftState; // present when changed since the last Ready
  hardState?: HardState; // present when changed since the last Ready
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  mustSync: boolean;
  /**
   * The messages may be sent before this Ready is persisted: a leader's appends and heartbeats
   * while its term and vote are durable. Its own entries count toward commit only once
   * advance() says they are persisted, so a follower and the leader's disk write in parallel
   * (Raft thesis §10.2.1).
   */
  sendFirst: boolean;
}

export type ProgressState = "probe" | "replicate" | "snapshot";

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  inflight: number;
  recentActive: boolean;
}

export interface Status {
  id: ReplicaId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  lastIndex: number;
  leadTransferee: ReplicaId; // 0 = no transfer in progress
  progress?: Map<ReplicaId, ProgressStatus>; // only on the leader
  /** Peer messages refused since start, by reason (for the node's metrics). */
  refused: RefusedCounts;
}

/**
 * Why a peer message was refused (never stepped into the protocol):
 *  - termAboveMax: its term is above maxTerm;
 *  - termJump: its term is further beyond ours than our term credit allows;
 *  - inconsistent: it contradicts itself or what this replica knows, in a way no honest peer's
 *    message can (an acknowledgement past the leader's log, entries out of order, ...).
 */
export type RefusalReason = "termAboveMax" | "termJump" | "inconsistent";

export type RefusedCounts = Readonly<Record<RefusalReason, number>>;

/**
 * Read-side storage the core consults. Writes are the driver's job (it persists each Ready).
 * Methods throw RaftError("COMPACTED") for an index before firstIndex() and
 * RaftError("UNAVAILABLE") for one after lastIndex().
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at least one if any exist, at most about maxBytes of data. The core
   * never modifies the returned array.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Also answers firstIndex() - 1: the term of the last entry covered by the snapshot. */
  term(index: number): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export interface RaftLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export interface RaftConfig {
  id: ReplicaId;
  /** Voters to bootstrap with when storage is empty; ignored when storage has a ConfState. */
  peers?: ReplicaId[];
  electionTicks: number;
  heartbeatTicks: number;
  /** Seeded; the only source of randomness (election jitter). */
  random: Prng;
  /**
   * Last index the application has applied (on restart); 0 for a new replica. If it is past the
   * persisted commit index (a commit-only HardState change need not be synced), the commit
   * index is raised to it.
   */
  applied?: number;
  maxInflightAppends: number;
  /** Cap on the payload bytes of appends in flight to one follower; 0 or absent = no cap. */
  maxInflightBytes?: number;
  maxAppendBytes: number;
  /** Backpressure on the leader's uncommitted tail (payload bytes); 0 = no limit. */
  maxUncommittedBytes: number;
  preVote: boolean;
  checkQuorum: boolean;
  logger?: RaftLogger;
  /**
   * The highest term this replica accepts from a peer or campaigns in (raftTermMax by default).
   * Far below 2^53 so that a term near the integer limit, which no election could follow (the
   * wire refuses terms above 2^53-1), is refused rather than adopted.
   */
  maxTerm?: number;
  /**
   * How far beyond its own term a peer's message may take this replica's term at once
   * (raftTermJumpMax by default). Term credit spent on accepted jumps comes back at one term per
   * election timeout of ticks (see term-guard.ts), so no sequence of forged messages can push
   * the term ahead faster than elections could.
   */
  maxTermJump?: number;
  /** Payload bytes of committed entries one Ready hands to the application
   * (committedEntriesBytesPerReadyMax by default): bounds one apply batch's memory and time. */
  maxCommittedBytesPerReady?: number;
}

export type RaftErrorCode =
  | "PROPOSAL_DROPPED" // no leader known, or this replica cannot take proposals now
  | "NOT_LEADER" // proposals go to the leader; the driver forwards or answers with a hint
  | "TRANSFER_IN_PROGRESS" // a leadership transfer is under way
  | "UNCOMMITTED_LIMIT" // backpressure: too many uncommitted bytes
  | "COMPACTED"
  | "UNAVAILABLE"
  | "SNAPSHOT_OUT_OF_DATE"
  | "CONF_CHANGE_REFUSED"; // one change at a time, after a commit in the leader's term, and one that fits

export class RaftError extends Error {
  override name = "RaftError";
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The public surface of a replica's Raft state machine (shape of etcd's RawNode). */
export interface RawNodeApi {
  tick(): void;
  campaign(): void;
  /** A message from a peer. Messages for a stale term are ignored or answered as the paper says. */
  step(m: Message): void;
  /**
   * Throws RaftError: NOT_LEADER (a follower that knows the leader: status().softState.leader
   * is the hint), PROPOSAL_DROPPED (no leader known: follower without leader, (pre-)candidate),
   * TRANSFER_IN_PROGRESS (this leader is handing over), UNCOMMITTED_LIMIT (this leader's
   * uncommitted tail would exceed maxUncommittedBytes; a proposal into an empty tail is always
   * accepted so that one large entry can make progress).
   */
  propose(data: Uint8Array): void;
  /**
   * The context must be unique per request; its answer arrives as a ReadState in a later Ready.
   * Never throws: a request that cannot be served (no leader known, a duplicate of a pending
   * context, the leader deposed before confirming) is dropped and logged; the caller times out
   * and retries with a new context.
   */
  readIndex(context: Uint8Array): void;
  /** On a follower, forwarded to the leader; dropped when no leader is known. */
  transferLeadership(to: ReplicaId): void;
  reportUnreachable(id: ReplicaId): void;
  /**
   * The driver must report the outcome of every Snapshot message it was given to send: the
   * leader sends nothing else to that follower until then.
   */
  reportSnapshot(id: ReplicaId, ok: boolean): void;
  /** False while a Ready is outstanding (between ready() and advance()). */
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  status(): Status;
}
