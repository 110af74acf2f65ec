// The pure Raft core's data types and public surface (etcd RawNode shape). These mirror
// proto/raft/v1/raft.proto field for field; a codec at the transport edge converts. Terms,
// indexes and replica ids are JS numbers (safe to 2^53). Replica id 0 means "none".

import type { Prng } from "../base/prng.js";

export type ReplicaId = number;

export enum EntryType {
  Normal = 1,
  ConfChange = 2, // reserved for membership changes
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
  learners: ReplicaId[]; // room for membership changes; always empty for now
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
  ReadIndex = 11,
  ReadIndexResponse = 12,
  TransferLeader = 13,
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
 *     `hardState` (if any) atomically and durably (synced when `mustSync`);
 *  2. only then send `messages`;
 *  3. apply `committedEntries` in order and serve `readStates` once applied;
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
}

/**
 * Read-side storage the core consults. Writes are the driver's job (it persists each Ready).
 * Methods throw RaftError("COMPACTED") for an index before firstIndex() and
 * RaftError("UNAVAILABLE") for one after lastIndex().
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any exist, at most about maxBytes of data. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
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
  /** Last index the application has applied (on restart); 0 for a new replica. */
  applied?: number;
  maxInflightAppends: number;
  maxAppendBytes: number;
  maxUncommittedBytes: number;
  preVote: boolean;
  checkQuorum: boolean;
  logger?: RaftLogger;
}

export type RaftErrorCode =
  | "PROPOSAL_DROPPED" // no leader known, or this replica cannot take proposals now
  | "NOT_LEADER" // proposals go to the leader; the driver forwards or answers with a hint
  | "TRANSFER_IN_PROGRESS" // a leadership transfer is under way
  | "UNCOMMITTED_LIMIT" // backpressure: too many uncommitted bytes
  | "COMPACTED"
  | "UNAVAILABLE"
  | "SNAPSHOT_OUT_OF_DATE";

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
  /** Throws RaftError: NOT_LEADER, TRANSFER_IN_PROGRESS, UNCOMMITTED_LIMIT, PROPOSAL_DROPPED. */
  propose(data: Uint8Array): void;
  /** The context must be unique per request; its answer arrives as a ReadState in a later Ready. */
  readIndex(context: Uint8Array): void;
  transferLeadership(to: ReplicaId): void;
  reportUnreachable(id: ReplicaId): void;
  reportSnapshot(id: ReplicaId, ok: boolean): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  status(): Status;
}
