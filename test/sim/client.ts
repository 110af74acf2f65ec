// The client: proposes unique payloads and asks for ReadIndex reads with unique contexts. A write
// is acknowledged when it is first applied anywhere (the earliest moment a real node could
// answer the client), which is the hardest case for the read and durability checks.

import { RaftError, type ReplicaId } from "../../src/raft/types.js";
import type { SafetyChecker } from "./checkers/safety-checker.js";
import { encodeId, noopPayload } from "./payload.js";
import { refusalCodes } from "./refusals.js";
import type { SimReplica } from "./replica.js";
import { type Trace, TraceKind } from "./trace.js";

/** Steps without any acknowledgement after which the client stops trusting its cached leader. */
const patienceSteps = 40;

export class SimClient {
  private nextPayload = 1;
  private nextContext = 1;
  private readonly acked = new Set<number>();
  /** Highest index of an acknowledged write. */
  highestAckedIndex = 0;
  /** Index at which each payload was acknowledged (only the ones we wait for). */
  private readonly watched = new Map<number, number>();
  proposals = 0;
  refusals = 0;
  reads = 0;
  readAnswers = 0;
  /**
   * Where the client sends requests: learnt like a real client, from NOT_LEADER leader hints,
   * and dropped after patienceSteps without an acknowledgement, so it keeps talking to a deposed
   * leader for a while (the case that stale reads need).
   */
  leader: ReplicaId = 0;
  private lastProgressStep = 0;

  constructor(
    private readonly checker: SafetyChecker,
    private readonly trace: Trace,
  ) {}

  /** Proposes a fresh payload at `r`; returns it, or undefined if `r` refused. */
  propose(r: SimReplica): number | undefined {
    const payload = this.nextPayload++;
    try {
      r.node!.propose(encodeId(payload));
    } catch (err) {
      this.refused(r, payload, err);
      return undefined;
    }
    this.proposals++;
    this.trace.record(TraceKind.Propose, r.id, payload);
    return payload;
  }

  read(r: SimReplica): void {
    const context = this.nextContext++;
    this.checker.readAsk(context);
    try {
      r.node!.readIndex(encodeId(context));
    } catch (err) {
      this.refused(r, 0, err);
      return;
    }
    this.reads++;
    this.trace.record(TraceKind.ReadAsk, r.id, context);
  }

  private refused(r: SimReplica, payload: number, err: unknown): void {
    if (!(err instanceof RaftError) || !refusalCodes.includes(err.code)) throw err;
    if (err.code === "NOT_LEADER" || err.code === "PROPOSAL_DROPPED") this.follow(r.leaderHint);
    this.refusals++;
    this.trace.record(TraceKind.Refused, r.id, payload, refusalCodes.indexOf(err.code));
  }

  applied(payload: number, index: number): void {
    if (payload === noopPayload || this.acked.has(payload)) return;
    this.acked.add(payload);
    this.lastProgressStep = this.trace.step;
    this.checker.ack(payload, index);
    if (index > this.highestAckedIndex) this.highestAckedIndex = index;
    if (this.watched.has(payload)) this.watched.set(payload, index);
  }

  answered(context: number, index: number): void {
    this.readAnswers++;
    this.lastProgressStep = this.trace.step;
    this.checker.readAnswer(context, index);
  }

  /** The replica to address next: the cached leader, or 0 to pick any (none known, or no progress). */
  target(): ReplicaId {
    if (this.leader !== 0 && this.trace.step - this.lastProgressStep > patienceSteps) this.follow(0);
    return this.leader;
  }

  private follow(leader: ReplicaId): void {
    this.leader = leader;
    this.lastProgressStep = this.trace.step;
  }

  /** Starts waiting for `payload`; ackIndexOf tells when and where it was acknowledged. */
  watch(payload: number): void {
    this.watched.set(payload, 0);
  }

  ackIndexOf(payload: number): number {
    return this.watched.get(payload) ?? 0;
  }
}
