// All safety checks behind one observer. The simulation calls its methods as things happen (no
// event objects on the hot path); tests feed hand-made histories through checkHistory. Either
// way the checkers see only what the history says, never the simulation itself.

import type { ReplicaId } from "../../../src/raft/types.js";
import { SafetyViolation } from "../violation.js";
import { checkAckedWritesKept, type Ack, type FinalReplica } from "./acked-writes.js";
import { ElectionSafety } from "./election-safety.js";
import { type ElectionQuorum, QuorumOverlap } from "./quorum-overlap.js";
import { LeaderCompleteness, type LogView } from "./leader-completeness.js";
import { LogMatching } from "./log-matching.js";
import { ReadIndexSafety } from "./read-index-safety.js";
import { StateMachineSafety } from "./state-machine-safety.js";
import { VoteSafety } from "./vote-safety.js";

export type SimEvent =
  | { kind: "leader"; replica: ReplicaId; term: number; log: LogView }
  | { kind: "elected"; term: number; quorum: ElectionQuorum }
  | { kind: "hard-state"; replica: ReplicaId; term: number; vote: ReplicaId }
  | { kind: "leader-message"; replica: ReplicaId; term: number }
  | { kind: "persist"; replica: ReplicaId; index: number; term: number; prevTerm: number; payload: number }
  | { kind: "commit"; replica: ReplicaId; replicaTerm: number; index: number; entryTerm: number }
  | { kind: "apply"; replica: ReplicaId; index: number; term: number; payload: number }
  | { kind: "restore"; replica: ReplicaId; index: number; hash: number; from: "restart" | "snapshot" }
  | { kind: "ack"; payload: number; index: number }
  | { kind: "read-ask"; context: number }
  | { kind: "read-answer"; context: number; index: number }
  | { kind: "settled"; replicas: FinalReplica[] };

export class SafetyChecker {
  private readonly elections = new ElectionSafety();
  private readonly quorums = new QuorumOverlap();
  private readonly votes = new VoteSafety();
  private readonly logs = new LogMatching();
  private readonly completeness = new LeaderCompleteness();
  readonly stateMachine = new StateMachineSafety();
  private readonly reads = new ReadIndexSafety();
  private readonly acks: Ack[] = [];

  leader(replica: ReplicaId, term: number, log: LogView): void {
    if (this.elections.leader(term, replica)) this.completeness.leader(replica, term, log);
  }

  /** A replica won an election in `term` with the votes of `quorum.granted` (see QuorumOverlap). */
  elected(term: number, quorum: ElectionQuorum): void {
    this.quorums.elected(term, quorum);
  }

  /** A replica persisted (or restarted with) this term and vote. */
  hardState(replica: ReplicaId, term: number, vote: ReplicaId): void {
    this.votes.hardState(replica, term, vote);
  }

  /**
   * `replica` sent a message only a leader sends (append, heartbeat, snapshot, TimeoutNow) at
   * `term`: it acted as leader then, even if it stepped down before any Ready showed it.
   */
  leaderMessage(replica: ReplicaId, term: number): void {
    this.elections.leader(term, replica);
  }

  persist(replica: ReplicaId, index: number, term: number, prevTerm: number, payload: number): void {
    this.logs.persisted(replica, index, term, prevTerm, payload);
  }

  commit(replica: ReplicaId, replicaTerm: number, index: number, entryTerm: number): void {
    this.completeness.commit(replica, replicaTerm, index, entryTerm);
  }

  apply(replica: ReplicaId, index: number, term: number, payload: number): void {
    this.stateMachine.apply(replica, index, term, payload);
  }

  restore(replica: ReplicaId, index: number, hash: number, from: "restart" | "snapshot"): void {
    this.stateMachine.restore(replica, index, hash, from);
  }

  ack(payload: number, index: number): void {
    this.acks.push({ payload, index });
    this.reads.ack(index);
  }

  readAsk(context: number): void {
    this.reads.ask(context);
  }

  readAnswer(context: number, index: number): void {
    this.reads.answer(context, index);
  }

  /** The cluster has healed and settled: acknowledged writes must be everywhere. */
  settled(replicas: readonly FinalReplica[]): void {
    checkAckedWritesKept(this.acks, (i) => this.stateMachine.payloadAt(i), replicas);
  }

  get ackCount(): number {
    return this.acks.length;
  }

  observe(e: SimEvent): void {
    switch (e.kind) {
      case "leader":
        return this.leader(e.replica, e.term, e.log);
      case "elected":
        return this.elected(e.term, e.quorum);
      case "leader-message":
        return this.leaderMessage(e.replica, e.term);
      case "hard-state":
        return this.hardState(e.replica, e.term, e.vote);
      case "persist":
        return this.persist(e.replica, e.index, e.term, e.prevTerm, e.payload);
      case "commit":
        return this.commit(e.replica, e.replicaTerm, e.index, e.entryTerm);
      case "apply":
        return this.apply(e.replica, e.index, e.term, e.payload);
      case "restore":
        return this.restore(e.replica, e.index, e.hash, e.from);
      case "ack":
        return this.ack(e.payload, e.index);
      case "read-ask":
        return this.readAsk(e.context);
      case "read-answer":
        return this.readAnswer(e.context, e.index);
      case "settled":
        return this.settled(e.replicas);
    }
  }
}

/** Runs a whole history through fresh checkers; the first violation, or undefined if it is safe. */
export function checkHistory(events: readonly SimEvent[]): SafetyViolation | undefined {
  const checker = new SafetyChecker();
  try {
    for (const e of events) checker.observe(e);
  } catch (err) {
    if (err instanceof SafetyViolation) return err;
    throw err;
  }
  return undefined;
}
