// What the protocol's handlers (election.ts, replication.ts, step-leader.ts, step-follower.ts)
// see of one replica's Raft state: the Raft class implements it. An interface of its own so the
// handlers do not import the class that dispatches to them (no import cycle, not even of types).

import type { Message, ReadState, RefusalReason, ReplicaId, Role } from "./types.js";
import type { MajorityConfig } from "./quorum.js";
import type { Progress } from "./progress.js";
import type { RaftLog } from "./raft-log.js";
import type { ReadOnly } from "./read-only.js";
import type { TermGuard } from "./term-guard.js";

export interface RaftState {
  readonly id: ReplicaId;
  term: number;
  vote: ReplicaId;
  lead: ReplicaId;
  role: Role;
  readonly raftLog: RaftLog;
  config: MajorityConfig;
  learners: ReplicaId[];
  /** Voters then learners, without us (replication order). */
  readonly replicationTargets: readonly ReplicaId[];
  /** Leader only: what we know of each member's log (including our own). */
  prs: Map<ReplicaId, Progress>;
  /** Votes received in the current (pre-)campaign. */
  readonly votes: Map<ReplicaId, boolean>;
  readStates: ReadState[];
  readonly readOnly: ReadOnly;
  pendingReadIndex: Message[];
  readonly pendingReadKeys: Set<string>;
  leadTransferee: ReplicaId;
  /** A TimeoutNow came while a committed conf change was unapplied: campaign after applying it. */
  transferCampaignPending: boolean;
  electionElapsed: number;
  readonly electionTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly maxAppendBytes: number;
  readonly termGuard: TermGuard;

  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
  promotable(): boolean;
  hasUnappliedConfChange(): boolean;
  setConfState(cs: { voters: readonly ReplicaId[]; learners: readonly ReplicaId[] }): void;
  isSingleVoter(): boolean;
  committedEntryInCurrentTerm(): boolean;
  becomeFollower(term: number, lead: ReplicaId): void;
  becomePreCandidate(): void;
  becomeCandidate(): void;
  becomeLeader(): void;
  send(m: Message): void;
  refuse(reason: RefusalReason, m: Message, why: string): void;
  maybeCommit(): boolean;
  abortLeaderTransfer(why: string): void;
}
